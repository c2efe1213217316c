/**
 * The Runs view's filter and sort, set from its title bar: an MLflow-style filter
 * (`metrics.accuracy > 0.8 and params.lr = '0.01'`) and an order (`metrics.accuracy DESC`),
 * sent to POST runs/search. The active query shows in the view's description and message, with
 * "Clear Filter" in the title bar while one is set (context key `lathe.runs.filtered`).
 */
import * as vscode from "vscode";
import type { SearchRunsRequest } from "../../../schemas/api";
import { messageOf } from "../vscode/errors";
import { readSettings } from "../vscode/settings";
import { describeQuery, sortChoices } from "./queryText";

export class RunsQuery implements vscode.Disposable {
  private filter: string | undefined;
  private order: string | undefined;
  private view: vscode.TreeView<unknown> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  get active(): boolean {
    return this.filter !== undefined || this.order !== undefined;
  }

  get sorted(): boolean {
    return this.order !== undefined;
  }

  attach(view: vscode.TreeView<unknown>): void {
    this.view = view;
    this.show();
  }

  /** The filter and order for a paged search of one experiment's runs. */
  search(): Pick<SearchRunsRequest, "filter" | "orderBy"> {
    return {
      ...(this.filter ? { filter: this.filter } : {}),
      ...(this.order ? { orderBy: [this.order] } : {}),
    };
  }

  request(): Pick<SearchRunsRequest, "filter" | "orderBy" | "maxResults"> {
    return {
      ...(this.filter ? { filter: this.filter } : {}),
      ...(this.order ? { orderBy: [this.order] } : {}),
      maxResults: 50_000,
    };
  }

  /** "Lathe: Filter Runs…": an input box prefilled with the current filter. */
  async editFilter(initial = this.filter): Promise<void> {
    const { headlineMetric } = readSettings();
    const text = await vscode.window.showInputBox({
      title: "Filter Runs",
      prompt:
        "MLflow filter syntax: metrics.<key>, params.<key>, tags.<key>, attributes (status, run_name); and to combine. Empty clears it.",
      placeHolder: `metrics.${headlineMetric} > 0.8 and params.lr = '0.01'`,
      value: initial ?? "",
    });
    if (text === undefined) {
      return;
    }
    this.filter = text.trim() || undefined;
    this.changedQuery();
  }

  /** "Lathe: Sort Runs…": newest first, by the headline metric, by name, or any column. */
  async pickSort(): Promise<void> {
    const { headlineMetric } = readSettings();
    const picked = await vscode.window.showQuickPick(
      sortChoices(headlineMetric).map((c) => ({
        ...c,
        picked: c.order === this.order,
        description: c.order === this.order ? "current" : c.order,
      })),
      { title: "Sort Runs" },
    );
    if (!picked) {
      return;
    }
    let order = picked.order;
    if (order === "custom") {
      const text = await vscode.window.showInputBox({
        title: "Sort Runs by",
        prompt: "A column and ASC or DESC: metrics.<key>, params.<key>, start_time, run_name…",
        placeHolder: "params.lr DESC",
        value: this.order ?? "",
      });
      if (text === undefined) {
        return;
      }
      order = text.trim();
    }
    this.order = order || undefined;
    this.changedQuery();
  }

  clear(): void {
    this.filter = undefined;
    this.order = undefined;
    this.changedQuery();
  }

  /** The search answered: say how many runs match. */
  reportSuccess(count: number): void {
    if (this.view && this.active) {
      this.view.message = `${count} run${count === 1 ? "" : "s"} — ${describeQuery(this.filter, this.order)}`;
    }
  }

  /**
   * The daemon refused the query (its message names what is wrong): the query is dropped, so
   * later refreshes do not fail again, and "Edit Filter" starts from the refused text.
   */
  reportFailure(err: unknown): void {
    const message = messageOf(err);
    const refused = this.filter;
    this.filter = undefined;
    this.order = undefined;
    this.changedQuery();
    if (this.view) {
      this.view.message = `Filter not applied: ${message}`;
    }
    void vscode.window
      .showErrorMessage(`Filtering runs failed: ${message}`, "Edit Filter")
      .then((choice) => (choice === "Edit Filter" ? this.editFilter(refused) : undefined));
  }

  dispose(): void {
    this.changed.dispose();
  }

  private changedQuery(): void {
    this.show();
    this.changed.fire();
  }

  private show(): void {
    void vscode.commands.executeCommand("setContext", "lathe.runs.filtered", this.active);
    if (this.view) {
      this.view.description = this.active ? describeQuery(this.filter, this.order) : undefined;
      this.view.message = undefined;
    }
  }
}

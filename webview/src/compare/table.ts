/**
 * The params/metrics table of the compared runs (a metric's last value, min, max and points;
 * tableRows.ts), with an "only differences" toggle.
 */
import type { CompareModel } from "../../../schemas/webview";
import { checkbox, dataGrid, el } from "../components";
import { tableRows } from "./tableRows";

export class CompareTable {
  readonly element: HTMLElement;
  private readonly grid = dataGrid("Params and metrics of the compared runs");
  private model: CompareModel | undefined;
  private onlyDiffs = false;

  constructor() {
    const toggle = checkbox({
      label: "Only differences",
      checked: false,
      onChange: (checked) => {
        this.onlyDiffs = checked;
        this.render();
      },
    });
    this.element = el(
      "section",
      { className: "table" },
      el("div", { className: "toolbar" }, el("h2", {}, "Params and metrics"), toggle),
      this.grid.element,
    );
  }

  setModel(model: CompareModel): void {
    this.model = model;
    this.render();
  }

  private render(): void {
    if (!this.model) {
      return;
    }
    const { runs } = this.model;
    const rows = tableRows(this.model.rows, this.onlyDiffs);
    this.grid.update(
      [
        { key: "key", title: "" },
        ...runs.map((r) => ({ key: `r${r.index}`, title: `${r.name} · ${r.id.slice(0, 7)}` })),
      ],
      rows.map((row) => {
        const record: Record<string, string> = { key: row.label };
        row.cells.forEach((cell, i) => {
          record[`r${runs[i]!.index}`] = cell;
        });
        return record;
      }),
    );
    this.element.dataset.rows = String(rows.length);
  }
}

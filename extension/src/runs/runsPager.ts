/**
 * An experiment's runs for the Runs view, a page at a time (setting `lathe.runs.pageSize`): the
 * top level from `GET /api/v1/runs?parent=top&children=include` by offset, or, while a filter or
 * sort is set, `POST /api/v1/runs/search` by page token. Pages already loaded are kept until the
 * runs change; then as many pages as were shown are loaded again, so "Load more…" is not undone
 * by the next event. No `vscode` import: test/extension/runs-pager.test.ts runs it against a
 * real daemon.
 */
import type { RunSummary, SearchRunsRequest, SearchRunsResult } from "../../../schemas/api";

export type DaemonCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** A top-level run and its children (a repro's stage runs), in the order they ran. */
export interface TopRun {
  run: RunSummary;
  children: RunSummary[];
}

export interface RunsListing {
  top: TopRun[];
  /** More top-level runs wait beyond the pages loaded ("Load more…"). */
  more: boolean;
}

/** The filter and sort of the view while one is set: the search's body without paging. */
export type RunsSearch = Pick<SearchRunsRequest, "filter" | "orderBy">;

interface Loaded {
  /** The query the pages belong to; another query starts again from one page. */
  key: string;
  pages: number;
  /** Pages to show: more than `pages` after "Load more…" or after the runs changed. */
  wanted: number;
  /** Unfiltered: top-level runs with their children, page after page. */
  top: TopRun[];
  /** Filtered: every run the search gave, flat; top level and children are drawn from them. */
  found: RunSummary[];
  next: { offset: number } | { pageToken: string } | undefined;
}

export class RunsPager {
  private readonly loaded = new Map<string, Loaded>();

  constructor(
    private readonly call: DaemonCall,
    private readonly pageSize: () => number,
  ) {}

  /** The runs changed: pages are loaded again when next asked for, as many as were shown. */
  invalidate(): void {
    // New entries, so a page still being fetched lands in the old one and is dropped with it.
    for (const [id, entry] of this.loaded) {
      const wanted = Math.max(entry.wanted, entry.pages, 1);
      this.loaded.set(id, {
        key: entry.key,
        pages: 0,
        wanted,
        top: [],
        found: [],
        next: undefined,
      });
    }
  }

  /** The query or the page size changed: every experiment starts again from one page. */
  clear(): void {
    this.loaded.clear();
  }

  /** Asks for one more page of the experiment, loaded by the next `runsOf`. */
  loadMore(experimentId: string): void {
    const entry = this.loaded.get(experimentId);
    if (entry?.next) {
      entry.wanted = entry.pages + 1;
    }
  }

  /**
   * Loads pages of the experiment until its top-level run `topId` is among them, at most
   * `maxPages` in all; false when the run is not there (filtered out, or beyond `maxPages`).
   */
  async loadUntil(
    experimentId: string,
    topId: string,
    search: RunsSearch | undefined,
    maxPages: number,
  ): Promise<TopRun | undefined> {
    for (;;) {
      const listing = await this.runsOf(experimentId, search);
      const found = listing.top.find((t) => t.run.id === topId);
      const entry = this.loaded.get(experimentId);
      if (found || !listing.more || !entry || entry.pages >= maxPages) {
        return found;
      }
      this.loadMore(experimentId);
    }
  }

  /** The top-level run `id` of the experiment, or the one holding it, from the pages loaded. */
  topOf(experimentId: string, id: string): TopRun | undefined {
    const entry = this.loaded.get(experimentId);
    if (!entry) {
      return undefined;
    }
    const top = entry.key === "null" ? entry.top : nest(entry.found, true);
    return top.find((t) => t.run.id === id || t.children.some((c) => c.id === id));
  }

  /** The experiment's runs as far as its pages go, loading the pages not loaded yet. */
  async runsOf(experimentId: string, search?: RunsSearch): Promise<RunsListing> {
    const key = JSON.stringify(search ?? null);
    let entry = this.loaded.get(experimentId);
    if (!entry || entry.key !== key) {
      entry = { key, pages: 0, wanted: 1, top: [], found: [], next: undefined };
      this.loaded.set(experimentId, entry);
    }
    while (entry.pages < entry.wanted && (entry.pages === 0 || entry.next)) {
      await (search
        ? this.searchPage(entry, experimentId, search)
        : this.page(entry, experimentId));
      entry.pages += 1;
    }
    entry.wanted = entry.pages;
    const top = search ? nest(entry.found, search.orderBy !== undefined) : entry.top;
    return { top, more: entry.next !== undefined };
  }

  private async page(entry: Loaded, experimentId: string): Promise<void> {
    const size = this.pageSize();
    const offset = entry.next && "offset" in entry.next ? entry.next.offset : 0;
    // One run beyond the page says whether there is another page.
    const query = new URLSearchParams({
      experiment: experimentId,
      parent: "top",
      children: "include",
      limit: String(size + 1),
      offset: String(offset),
    });
    const runs = await this.call<RunSummary[]>("GET", `/api/v1/runs?${query.toString()}`);
    const top = nest(runs, true);
    entry.top.push(...top.slice(0, size));
    entry.next = top.length > size ? { offset: offset + size } : undefined;
  }

  private async searchPage(entry: Loaded, experimentId: string, search: RunsSearch) {
    const token = entry.next && "pageToken" in entry.next ? entry.next.pageToken : undefined;
    const body: SearchRunsRequest = {
      experimentIds: [experimentId],
      ...search,
      maxResults: this.pageSize(),
      ...(token ? { pageToken: token } : {}),
    };
    const result = await this.call<SearchRunsResult>("POST", "/api/v1/runs/search", body);
    entry.found.push(...result.runs);
    entry.next = result.nextPageToken ? { pageToken: result.nextPageToken } : undefined;
  }
}

/**
 * Top-level runs (whose parent is not among `runs`) in the order given, or newest first unless
 * `ordered`, each with its children in the order they ran.
 */
export function nest(runs: RunSummary[], ordered: boolean): TopRun[] {
  const ids = new Set(runs.map((r) => r.id));
  const top = runs.filter((r) => r.parentId === null || !ids.has(r.parentId));
  if (!ordered) {
    top.sort((a, b) => b.startTime - a.startTime);
  }
  return top.map((run) => ({
    run,
    children: runs.filter((r) => r.parentId === run.id).sort((a, b) => a.startTime - b.startTime),
  }));
}

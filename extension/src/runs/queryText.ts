/** Texts of the Runs view's filter and sort; pure (unit-tested). */

export interface SortChoice {
  label: string;
  /** An MLflow order-by clause; "" is the default (newest first), "custom" asks for one. */
  order: string;
}

export function sortChoices(headlineMetric: string): SortChoice[] {
  return [
    { label: "$(history) Newest first", order: "" },
    { label: "$(history) Oldest first", order: "start_time ASC" },
    {
      label: `$(arrow-down) ${headlineMetric}, highest first`,
      order: `metrics.${quoteKey(headlineMetric)} DESC`,
    },
    {
      label: `$(arrow-up) ${headlineMetric}, lowest first`,
      order: `metrics.${quoteKey(headlineMetric)} ASC`,
    },
    { label: "$(symbol-text) Name", order: "run_name ASC" },
    { label: "$(edit) Other column…", order: "custom" },
  ];
}

/** A key as MLflow's syntax needs it: plain when it is an identifier, else in backticks. */
export function quoteKey(key: string): string {
  return /^[A-Za-z_][\w.]*$/.test(key) ? key : `\`${key.replace(/`/g, "")}\``;
}

/** What the view's description says: "accuracy > 0.8 · by metrics.accuracy DESC". */
export function describeQuery(filter: string | undefined, order: string | undefined): string {
  const parts: string[] = [];
  if (filter) {
    parts.push(`filter: ${filter}`);
  }
  if (order) {
    parts.push(`sort: ${order}`);
  }
  return parts.join(" · ");
}

/**
 * A read-only table in the editor's style: columns by key, rows as records of text. Rows can be
 * replaced in place (`update`), so a filter toggle does not rebuild the element.
 */
import {
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
} from "@vscode/webview-ui-toolkit/dist/data-grid/index.js";
import { useElements } from "./registry";

export interface GridColumn {
  key: string;
  title: string;
}

export interface DataGridHandle {
  element: HTMLElement;
  update(columns: GridColumn[], rows: Record<string, string>[]): void;
}

interface ToolkitGrid extends HTMLElement {
  rowsData: Record<string, string>[];
  columnDefinitions: { columnDataKey: string; title: string }[];
  gridTemplateColumns: string;
}

export function dataGrid(label: string): DataGridHandle {
  useElements({
    "vscode-data-grid": vsCodeDataGrid,
    "vscode-data-grid-row": vsCodeDataGridRow,
    "vscode-data-grid-cell": vsCodeDataGridCell,
  });
  const grid = document.createElement("vscode-data-grid") as ToolkitGrid;
  grid.setAttribute("aria-label", label);
  grid.setAttribute("generate-header", "sticky");
  return {
    element: grid,
    update(columns, rows) {
      grid.columnDefinitions = columns.map((c) => ({ columnDataKey: c.key, title: c.title }));
      grid.gridTemplateColumns = columns
        .map((_, i) => (i === 0 ? "minmax(8em, 2fr)" : "1fr"))
        .join(" ");
      grid.rowsData = rows;
    },
  };
}

/** Lathe's webview components: thin wrappers, one per file, so the toolkit can be swapped here. */
export { button, type ButtonProps } from "./button";
export { checkbox, type CheckboxProps } from "./checkbox";
export { dataGrid, type DataGridHandle, type GridColumn } from "./dataGrid";
export { dropdown, type DropdownProps } from "./dropdown";
export { el } from "./registry";
export { slider, type SliderProps } from "./slider";
export { textArea, type TextAreaHandle, type TextAreaProps } from "./textArea";

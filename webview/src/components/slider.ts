/**
 * A labelled range slider showing its value. The toolkit has none, so this is a native range
 * input styled with the theme's CSS variables (components.css); arrow keys move it.
 */
import { el } from "./registry";

export interface SliderProps {
  label: string;
  min: number;
  max: number;
  step: number;
  value: number;
  /** How the value reads beside the slider. */
  format?: (value: number) => string;
  onInput: (value: number) => void;
}

export function slider(props: SliderProps): HTMLElement {
  const input = document.createElement("input");
  input.type = "range";
  input.className = "lathe-slider";
  input.min = String(props.min);
  input.max = String(props.max);
  input.step = String(props.step);
  input.value = String(props.value);
  input.setAttribute("aria-label", props.label);
  const format = props.format ?? String;
  const shown = el("span", { className: "lathe-slider-value" }, format(props.value));
  input.addEventListener("input", () => {
    const value = Number(input.value);
    shown.textContent = format(value);
    props.onInput(value);
  });
  return el("label", { className: "lathe-field" }, el("span", {}, props.label), input, shown);
}

/**
 * Keeps long completion lists small: a 500-stage params.yaml offers about 1,500 keys, and
 * sending them all after every keystroke costs more than computing them. In a list longer than
 * MAX_ITEMS, items that cannot match what is typed are dropped (the editor would hide them anyway:
 * its filter needs the typed characters in order), and if it is still too long it is cut and
 * marked incomplete, so the editor asks again as the user types on.
 */
import type { CompletionItem } from "vscode-languageserver";

/** Enough for any list a person scrolls through; the editor re-asks when it was cut. */
export const MAX_ITEMS = 200;

export interface LimitedItems {
  items: CompletionItem[];
  isIncomplete: boolean;
}

/** `items` filtered by `typed` (the text the completion replaces) and cut to `max`. */
export function limitItems(items: CompletionItem[], typed: string, max = MAX_ITEMS): LimitedItems {
  if (items.length <= max) {
    return { items, isIncomplete: false }; // Short lists go whole: the editor filters them.
  }
  const pattern = typed.toLowerCase();
  const kept = pattern ? items.filter((i) => isSubsequence(pattern, filterOf(i))) : items;
  if (kept.length <= max) {
    return { items: kept, isIncomplete: false };
  }
  // Those starting with the typed text first, then the items' own order (sortText, label).
  const rank = (i: CompletionItem) => (filterOf(i).startsWith(pattern) ? 0 : 1);
  // Code-unit order, as the editor sorts sortText; localeCompare cost more than the rest here.
  const order = (i: CompletionItem) => `${rank(i)}${i.sortText ?? i.label}`;
  const keyed = kept.map((item) => ({ item, key: order(item) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const best = keyed.map((k) => k.item);
  return { items: best.slice(0, max), isIncomplete: true };
}

function filterOf(item: CompletionItem): string {
  return (item.filterText ?? item.label).toLowerCase();
}

function isSubsequence(pattern: string, text: string): boolean {
  let at = 0;
  for (const ch of pattern) {
    at = text.indexOf(ch, at);
    if (at < 0) {
      return false;
    }
    at += 1;
  }
  return true;
}

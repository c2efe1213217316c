/**
 * One analysed pipeline document with everything a request needs: the model, the graph, the
 * workspace on disk (when the document is a file), and offset ↔ position helpers.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { Position, Range } from "vscode-languageserver";
import { Analyser, type PipelineModel, type Span } from "./analysis";
import { OutputIndex } from "./graph";
import type { WorkspaceFiles } from "./workspaceFiles";

export interface DocContext {
  document: TextDocument;
  model: PipelineModel;
  index: OutputIndex;
  /** Undefined for an untitled document: nothing on disk to check against. */
  files: WorkspaceFiles | undefined;
}

/** The folder of a file: URI (the workspace root of its pipeline). */
export function rootOf(uri: string): string | undefined {
  if (!uri.startsWith("file:")) {
    return undefined;
  }
  try {
    return dirname(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

export function buildContext(
  document: TextDocument,
  files: WorkspaceFiles | undefined,
  analyser = new Analyser(),
): DocContext {
  const model = analyser.analyse(document.getText());
  return { document, model, index: new OutputIndex(model.stages), files };
}

export function rangeOf(document: TextDocument, span: Span): Range {
  return { start: document.positionAt(span.start), end: document.positionAt(span.end) };
}

export function contains(span: Span, offset: number): boolean {
  return offset >= span.start && offset <= span.end;
}

export function offsetOf(ctx: DocContext, position: Position): number {
  return ctx.document.offsetAt(position);
}

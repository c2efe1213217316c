/**
 * The pipeline's graph as the editor sees it: which stage produces a path, which outputs overlap,
 * and which stages form a cycle. Same rules as the engine (docs/pipeline.md): a dep depends on an
 * output when one equals, contains or lies inside the other.
 */
import { ancestors, push } from "../../../daemon/src/pipeline/dag";
import type { PathRef, StageInfo } from "./analysis";

export class OutputIndex {
  private readonly byPath = new Map<string, PathRef[]>();
  /** Folder → outputs strictly inside it. */
  private readonly inside = new Map<string, PathRef[]>();

  constructor(readonly stages: StageInfo[]) {
    for (const stage of stages) {
      for (const out of stage.outputs) {
        if (out.wsPath === undefined) {
          continue;
        }
        push(this.byPath, out.wsPath, out);
        for (const dir of ancestors(out.wsPath)) {
          push(this.inside, dir, out);
        }
      }
    }
  }

  /** Every output that equals, contains or lies inside `wsPath`. */
  producers(wsPath: string): PathRef[] {
    const found = [...(this.byPath.get(wsPath) ?? []), ...(this.inside.get(wsPath) ?? [])];
    for (const dir of ancestors(wsPath)) {
      found.push(...(this.byPath.get(dir) ?? []));
    }
    return found;
  }

  /** Pairs of outputs (of one stage or two) that write the same or overlapping paths. */
  overlapping(): [PathRef, PathRef][] {
    const pairs: [PathRef, PathRef][] = [];
    for (const [path, outs] of this.byPath) {
      for (let i = 1; i < outs.length; i++) {
        pairs.push([outs[0]!, outs[i]!]);
      }
      for (const dir of ancestors(path)) {
        for (const outer of this.byPath.get(dir) ?? []) {
          pairs.push([outer, outs[0]!]);
        }
      }
    }
    return pairs;
  }

  /** The stages each stage runs after (its deps' producers), self-loops included. */
  upstream(): Map<StageInfo, Set<StageInfo>> {
    const edges = new Map<StageInfo, Set<StageInfo>>();
    for (const stage of this.stages) {
      const up = new Set<StageInfo>();
      for (const dep of stage.deps) {
        if (dep.wsPath !== undefined) {
          for (const out of this.producers(dep.wsPath)) {
            up.add(out.stage);
          }
        }
      }
      edges.set(stage, up);
    }
    return edges;
  }

  /** Each cycle as its stages in order, first repeated at the end: `[a, b, a]`. */
  cycles(): StageInfo[][] {
    const edges = this.upstream();
    const cycles: StageInfo[][] = [];
    for (const component of stronglyConnected(this.stages, edges)) {
      const first = component[0]!;
      if (component.length === 1 && !edges.get(first)?.has(first)) {
        continue;
      }
      cycles.push(cyclePath(first, new Set(component), edges));
    }
    return cycles;
  }
}

/** Tarjan's algorithm, iterative so that a 500-stage chain does not overflow the stack. */
function stronglyConnected(
  nodes: StageInfo[],
  edges: Map<StageInfo, Set<StageInfo>>,
): StageInfo[][] {
  const index = new Map<StageInfo, number>();
  const low = new Map<StageInfo, number>();
  const onStack = new Set<StageInfo>();
  const stack: StageInfo[] = [];
  const result: StageInfo[][] = [];
  let next = 0;
  for (const root of nodes) {
    if (index.has(root)) {
      continue;
    }
    const work: { node: StageInfo; it: Iterator<StageInfo> }[] = [];
    const enter = (node: StageInfo) => {
      index.set(node, next);
      low.set(node, next++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, it: (edges.get(node) ?? new Set()).values() });
    };
    enter(root);
    while (work.length) {
      const top = work[work.length - 1]!;
      const step = top.it.next();
      if (!step.done) {
        const to = step.value;
        if (!index.has(to)) {
          enter(to);
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) {
        low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: StageInfo[] = [];
        let member: StageInfo;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        result.push(component.reverse());
      }
    }
  }
  return result;
}

/** A path from `start` back to itself inside one strongly connected component (downstream order). */
function cyclePath(
  start: StageInfo,
  members: Set<StageInfo>,
  upstream: Map<StageInfo, Set<StageInfo>>,
): StageInfo[] {
  const path = [start];
  const seen = new Set([start]);
  let current = start;
  for (;;) {
    const ups = [...(upstream.get(current) ?? [])].filter((s) => members.has(s));
    if (ups.includes(start)) {
      path.push(start);
      break;
    }
    const next = ups.find((s) => !seen.has(s));
    if (!next) {
      path.push(start);
      break;
    }
    path.push(next);
    seen.add(next);
    current = next;
  }
  // Walked upstream; print in run order (producer before consumer).
  return path.reverse();
}

import { isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import type { FieldPath, SourceLocation } from './repository.ts';

// Maps a field path (`spec.services[0].ports[1]`) back to a line and column in the
// YAML source, so that every problem points at the text the operator must edit.

/** Source positions of one parsed YAML document. */
export interface YamlLocator {
  /**
   * The value at `path`. Empty values (`key:` with nothing after it) and absent
   * fields point at the key of the nearest existing field instead, which is the
   * line to edit when a field is missing.
   */
  locate(path: FieldPath): SourceLocation;
  /** The key of the field at `path` (for unknown and duplicate fields); falls back to locate(). */
  locateKey(path: FieldPath): SourceLocation;
}

/** The text a mapping key stands for, as the parsed object sees it. */
export function keyText(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function child(node: unknown, segment: string | number): { pair?: Pair; node: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((item) => keyText(item) === String(segment));
    return pair ? { pair, node: pair.value } : undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { node: item };
  }
  return undefined;
}

function isEmptyValue(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.source === '' && node.value === null);
}

export function createLocator(file: string, root: unknown, lineCounter: LineCounter): YamlLocator {
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const startOf = (node: unknown): number | undefined => (node as Node | undefined)?.range?.[0];
  const rootLocation = (): SourceLocation => at(startOf(root) ?? 0);

  /** Walks as far along `path` as the document goes. */
  const walk = (path: FieldPath) => {
    let node: unknown = root;
    let pair: Pair | undefined;
    let depth = 0;
    for (const segment of path) {
      const next = child(node, segment);
      if (!next) break;
      node = next.node;
      pair = next.pair;
      depth++;
    }
    return { node, pair, complete: depth === path.length };
  };

  const keyLocation = (pair: Pair | undefined): SourceLocation | undefined => {
    const offset = startOf(pair?.key);
    return offset === undefined ? undefined : at(offset);
  };

  return {
    locate(path) {
      const { node, pair, complete } = walk(path);
      if (complete && !isEmptyValue(node)) return at(startOf(node) ?? 0);
      if (pair) return keyLocation(pair) ?? rootLocation();
      const offset = startOf(node);
      return offset === undefined ? rootLocation() : at(offset);
    },
    locateKey(path) {
      const { pair, complete } = walk(path);
      if (complete && isPair(pair)) return keyLocation(pair) ?? this.locate(path);
      return this.locate(path);
    },
  };
}

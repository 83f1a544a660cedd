import type { ConfigProblem, FieldPath, LoadedDocument } from '../repository.ts';
import { formatFieldPath } from '../repository.ts';
import type { Blueprint } from '../schema/index.ts';

/**
 * Collects widenings of one child against its parent. Each becomes a ConfigProblem
 * located in the child's file:
 *   path:    the field in the child document, by index (`spec.services[0].hosts`)
 *   message: `spec.services[github].hosts widens parent "coding-base": adds "uploads.github.com"`
 * The message names list entries by their name where they have one, because that
 * is how people read a blueprint; the path keeps indexes for tools.
 */
export interface WideningReport {
  /**
   * @param path  the child's field, by index
   * @param label the same field as the message names it
   * @param detail what widens, with the values (`adds "x"`)
   * @param at    a more precise position for the location (an offending element); default `path`
   */
  widens(path: FieldPath, label: string, detail: string, at?: FieldPath): void;
}

export function createWideningReport(
  child: LoadedDocument<Blueprint>,
  parentName: string,
  problems: ConfigProblem[],
): WideningReport {
  return {
    widens(path, label, detail, at) {
      problems.push({
        ...child.locate(at ?? path),
        path: formatFieldPath(path),
        message: `${label} widens parent "${parentName}": ${detail}`,
      });
    },
  };
}

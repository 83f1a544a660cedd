import { type BundleRef, findingEvent, mcpDecisionEvent, type OcsfEvent } from '../../audit/index.ts';
import { compileRedactPattern } from '../../config/index.ts';
import { newId } from '../../core/index.ts';
import { redactArguments, type ToolArgumentLogging } from '../../policy/index.ts';
import type { McpLog } from './log.ts';
import type { McpEventContext } from './types.ts';

// The gateway's audit records: API Activity (6003) for every tool call decision, with the
// arguments as the blueprint's logging allows (full, redacted, none); a Detection Finding (2004)
// for a pinned tool whose definition changed. Events are records, not log lines: each carries
// the decision, a reason code and the bundle in force.

/** Findings remembered to report each changed definition once; older ones may be reported again. */
const MAX_REMEMBERED_FINDINGS = 1024;

/** One decided tool call. */
export interface CallRecord {
  readonly server: string;
  readonly tool: string;
  readonly requestId: string;
  /** The arguments exactly as sent; recorded per logging. */
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly decision: 'allow' | 'deny' | 'review';
  readonly reasonCode: string;
  readonly reason?: string;
  readonly ruleId?: string;
  /** The review id, linking this event to the review.* events. */
  readonly correlationUid?: string;
  /** The bundle that decided. Default: the context's. */
  readonly bundle?: BundleRef;
}

export class McpAudit {
  private readonly onEvent: (event: OcsfEvent) => void;
  private readonly context: () => McpEventContext;
  private readonly log: McpLog;
  private readonly logging: ToolArgumentLogging;
  private readonly patterns: readonly RegExp[];
  private readonly reported = new Set<string>();

  constructor(
    onEvent: (event: OcsfEvent) => void,
    context: () => McpEventContext,
    log: McpLog,
    logging: ToolArgumentLogging = { toolArguments: 'redacted', redact: [] },
  ) {
    this.onEvent = onEvent;
    this.context = context;
    this.log = log;
    this.logging = logging;
    this.patterns = logging.redact.map(compileRedactPattern);
  }

  /** The arguments as events and review requests record them. */
  recordedArguments(args: Readonly<Record<string, unknown>>): unknown {
    return redactArguments(args, this.logging, this.patterns);
  }

  /** `mcp.allowed`, `mcp.denied` or `mcp.review_requested`. */
  call(record: CallRecord): void {
    this.emit(() =>
      mcpDecisionEvent({
        ...this.context(),
        ...(record.bundle ? { bundle: record.bundle } : {}),
        decision: record.decision,
        reasonCode: record.reasonCode,
        reason: record.reason,
        ruleId: record.ruleId,
        server: record.server,
        tool: record.tool,
        requestId: record.requestId,
        arguments: this.recordedArguments(record.arguments),
        correlationUid: record.correlationUid,
        message: `${record.decision} ${record.server}/${record.tool}`,
      }),
    );
  }

  /** `finding.created` for an allowed tool whose definition no longer matches its pin (once per new digest). */
  definitionChanged(server: string, tool: string, pinned: string, seen: string): void {
    const key = `${server}/${tool}@${seen}`;
    if (this.reported.has(key)) return;
    if (this.reported.size >= MAX_REMEMBERED_FINDINGS) this.reported.clear();
    this.reported.add(key);
    this.log.definitionChanged({ server, tool, pinned, seen });
    this.emit(() =>
      findingEvent({
        ...this.context(),
        event: 'finding.created',
        findingId: newId(),
        title: `MCP tool definition changed: ${server}/${tool}`,
        description: `The MCP server "${server}" now describes the allowed tool "${tool}" differently (description, input schema, output schema, title or annotations) than when it was first seen and pinned (${pinned}, now ${seen}). The gateway withholds the tool and refuses its calls until an operator reviews the change and removes the pin.`,
        detector: 'mcp.tool_definition_changed',
        severityId: 4,
        types: ['mcp-tool-poisoning'],
        confidence: 'high',
        enforcement: {
          decision: 'deny',
          reasonCode: 'tool_definition_changed',
          reason: `${server}/${tool} withheld: definition ${seen} differs from pin ${pinned}`,
          bundle: this.context().bundle,
        },
        message: `MCP tool ${server}/${tool} changed its definition; withheld`,
      }),
    );
  }

  private emit(build: () => OcsfEvent): void {
    try {
      this.onEvent(build());
    } catch (error) {
      this.log.auditFailed((error as Error).message);
    }
  }
}

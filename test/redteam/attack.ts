// The shape of one attack in the red-team suite (`npm run redteam`, scripts/redteam.ts).
// Each module in attacks/ exports `attacks: Attack[]`. An attack runs inside a REAL sandbox
// and reports whether the sandbox held; the runner counts an attack as passed only when it
// was blocked, and treats a crash of the attack itself as a failure (never as blocked).

export interface AttackOutcome {
  /** True when the sandbox stopped the attack. */
  readonly blocked: boolean;
  /** What was observed, one line: the error the attack got, or what it managed to do. */
  readonly evidence: string;
}

export interface Attack {
  /** Stable id, `<category>.<name>`. */
  readonly id: string;
  readonly title: string;
  /** filesystem | protected | process | kernel | resources | network | environment | terminal */
  readonly category: string;
  readonly expected: 'blocked';
  run(): Promise<AttackOutcome>;
}

/** Blocked when `ok`, with the evidence either way. */
export function outcome(blocked: boolean, evidence: string): AttackOutcome {
  return { blocked, evidence: evidence.replace(/\s+/g, ' ').trim().slice(0, 200) };
}

/** A workspace or review state as a coloured label (the colour is never the only cue). */
export function StateBadge({ state, testId }: { readonly state: string; readonly testId?: string }) {
  return (
    <span className={`badge badge-${state.replace(/[^a-z-]/g, '')}`} data-testid={testId} data-state={state}>
      {state}
    </span>
  );
}

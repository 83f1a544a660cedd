import type { DesiredState } from './repository.ts';

// Which signed release channel a workspace follows (docs/releases.md): its profile's
// `spec.releaseChannel`, else the first channel paddock.yaml declares.

/** The channels when paddock.yaml declares none (its schema default). */
export const DEFAULT_RELEASE_CHANNELS: readonly { readonly name: string }[] = [
  { name: 'canary' },
  { name: 'stable' },
];

/** The channel names paddock.yaml declares, in promotion order. */
export function declaredReleaseChannels(state: DesiredState): string[] {
  return (state.platform?.value.spec.releases.channels ?? DEFAULT_RELEASE_CHANNELS).map(
    (channel) => channel.name,
  );
}

/** The channel the workspaces of profile `profileName` follow. */
export function releaseChannelOf(state: DesiredState, profileName: string): string {
  return (
    state.profiles.get(profileName)?.value.spec.releaseChannel ??
    (declaredReleaseChannels(state)[0] as string)
  );
}

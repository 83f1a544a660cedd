export {
  compileReleaseBundle,
  RELEASE_BUNDLE_FORMAT,
  releaseBundleHash,
  serializeReleaseBundle,
} from './release-bundle.ts';
export type { BundleLogging, ReleaseBundle, ReleaseBundleInput, SourceFileHash } from './release-bundle.ts';
export { parseReleaseBundle } from './parse-release-bundle.ts';
export { denyAllBundle } from './deny-all.ts';

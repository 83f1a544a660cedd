// Who is asking, as every control-plane route sees it once a session is checked. Built from
// the session and the user's groups (from the IdP's groups claim at sign-in, refreshed on
// each token refresh); roles are derived from the Platform's identity settings.

export interface Principal {
  /** The user's id in the store: their email, as the IdP asserted it. */
  readonly userId: string;
  readonly displayName: string;
  readonly groups: readonly string[];
  /** The control-plane session this request rides on. */
  readonly sessionId: string;
  /** In one of `identity.adminGroups`. */
  readonly admin: boolean;
  /** In a group some blueprint's review gate names as reviewers. */
  readonly reviewer: boolean;
}

// The read-only system view every sandbox gets, whatever its blueprint: what programs need to
// start (the dynamic linker, libraries, executables) and a short list of /etc files. Not /etc
// as a whole: it holds shadow, sudoers, ssh host keys, machine-id and site secrets.

/** Top-level system directories, mirrored as the host has them (a directory, or a merged-/usr symlink). */
export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

/** /etc entries mirrored when they exist: linking, name service, TLS roots, time, shells. Not
 * gitconfig or npmrc: sites put credentials there (http.extraHeader, _authToken). */
export const ETC_ENTRIES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/protocols',
  '/etc/services',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/alternatives',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/mime.types',
  '/etc/inputrc',
  '/etc/bash.bashrc',
  '/etc/profile',
  '/etc/profile.d',
  '/etc/terminfo',
  '/etc/vim',
  '/etc/python3',
  '/etc/python3.11',
] as const;

/** Files the launcher writes itself: identity (the host's would leak its users and groups) and
 * a resolver configuration with no nameserver (the host's would name resolvers the sandbox
 * must not reach). */
export const SYNTHESIZED_ETC = ['passwd', 'group', 'hosts', 'hostname', 'resolv.conf'] as const;
export type SynthesizedEtcFile = (typeof SYNTHESIZED_ETC)[number];

/** Private, empty, sandbox-owned tmpfs mounts. (/var/tmp is a symlink to /tmp: one mount less.) */
export const PRIVATE_TMPFS = ['/tmp'] as const;

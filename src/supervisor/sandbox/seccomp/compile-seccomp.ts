import { BpfAssembler, encodeProgram, type SockFilter } from './bpf-assembler.ts';
import {
  AF_INET,
  AF_INET6,
  AF_PACKET,
  ALLOWED_PERSONALITIES,
  CLONE_NAMESPACE_FLAGS,
  CLONE_NEWTIME,
  DENIED_SYSCALLS,
  ENOSYS,
  EPERM,
  OPEN_CREATE_FLAGS,
  SETID_MODE_BITS,
  SETID_MODE_SYSCALLS,
  SOCK_PACKET,
  SOCK_RAW,
  SOCK_TYPE_MASK,
  TIOCLINUX,
  TIOCSTI,
  UNSUPPORTED_SYSCALLS,
} from './seccomp-policy.ts';
import { AUDIT_ARCH, type SeccompArch, X32_SYSCALL_BIT, syscallNumber } from './syscall-table.ts';

// Compiles seccomp-policy.ts into a classic BPF program for one architecture.
//
// Layout: check the ABI (a foreign ABI such as i386 on x86_64 has a different syscall table,
// so its numbers must never reach the rules below: such a process is killed), refuse x32
// numbers, compare the syscall number against each rule, then for the four syscalls whose
// arguments matter (clone, unshare, socket, ioctl, personality, and the mode of chmod and file
// creation) inspect those arguments. BPF jumps only forward, so each argument check is a
// labelled block after the comparisons.
// Arguments are compared on their low 32 bits only, on purpose: the kernel truncates ioctl's
// cmd and personality's value to 32 bits, so comparing all 64 would let 0x1_0000_5412 through.

/** SECCOMP_RET_* actions (linux/seccomp.h). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  ERRNO: 0x00050000,
  ALLOW: 0x7fff0000,
} as const;

/** Offsets in struct seccomp_data: nr (int), arch (u32), instruction_pointer (u64), args[6] (u64). */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  /** The low 32 bits of argument `i` (both supported architectures are little-endian). */
  argLow: (i: number) => 16 + 8 * i,
} as const;

const errno = (code: number) => SECCOMP_RET.ERRNO | code;

/** Builds the filter as instructions (tests decode and run these). */
export function compileSeccompProgram(arch: SeccompArch): SockFilter[] {
  const asm = new BpfAssembler();
  asm.load(SECCOMP_DATA.arch).jumpIfEqual(AUDIT_ARCH[arch], 'native', 'kill');
  asm.label('native').load(SECCOMP_DATA.nr);
  if (arch === 'x86_64') asm.jumpIfAtLeast(X32_SYSCALL_BIT, 'eperm');

  for (const name of Object.keys(DENIED_SYSCALLS)) {
    const nr = syscallNumber(arch, name);
    if (nr !== undefined) asm.jumpIfEqual(nr, 'eperm');
  }
  for (const name of UNSUPPORTED_SYSCALLS) {
    const nr = syscallNumber(arch, name);
    if (nr !== undefined) asm.jumpIfEqual(nr, 'enosys');
  }
  const inspected = ['clone', 'unshare', 'socket', 'ioctl', 'personality'] as const;
  for (const name of inspected) asm.jumpIfEqual(syscallNumber(arch, name)!, name);
  // Mode checks, one block per argument layout: `creating-F-M` (flags at F) leads to `setid-M`.
  const modeLabel = (mode: number) => `setid-mode-${mode}`;
  const createLabel = (flags: number, mode: number) => `creating-${flags}-${mode}`;
  const modeBlocks = new Set<number>();
  const createBlocks = new Map<string, { flags: number; mode: number }>();
  for (const [name, args] of Object.entries(SETID_MODE_SYSCALLS)) {
    const nr = syscallNumber(arch, name);
    if (nr === undefined) continue;
    modeBlocks.add(args.mode);
    if (args.flags === undefined) asm.jumpIfEqual(nr, modeLabel(args.mode));
    else {
      const label = createLabel(args.flags, args.mode);
      createBlocks.set(label, { flags: args.flags, mode: args.mode });
      asm.jumpIfEqual(nr, label);
    }
  }
  asm.ret(SECCOMP_RET.ALLOW);

  // open/openat: the mode counts only when the flags ask for creation.
  for (const [label, { flags, mode }] of createBlocks) {
    asm
      .label(label)
      .load(SECCOMP_DATA.argLow(flags))
      .jumpIfAnyBit(OPEN_CREATE_FLAGS, modeLabel(mode))
      .ret(SECCOMP_RET.ALLOW);
  }
  // No set-user-id or set-group-id file (the kernel truncates the mode to 16 bits).
  for (const mode of [...modeBlocks].sort()) {
    asm
      .label(modeLabel(mode))
      .load(SECCOMP_DATA.argLow(mode))
      .jumpIfAnyBit(SETID_MODE_BITS, 'eperm')
      .ret(SECCOMP_RET.ALLOW);
  }

  // clone(flags, ...) and unshare(flags): no new namespace of any kind.
  asm
    .label('clone')
    .load(SECCOMP_DATA.argLow(0))
    .jumpIfAnyBit(CLONE_NAMESPACE_FLAGS, 'eperm')
    .ret(SECCOMP_RET.ALLOW);
  asm
    .label('unshare')
    .load(SECCOMP_DATA.argLow(0))
    .jumpIfAnyBit(CLONE_NAMESPACE_FLAGS | CLONE_NEWTIME, 'eperm')
    .ret(SECCOMP_RET.ALLOW);

  // socket(domain, type, protocol): no packet sockets, no raw IP sockets.
  asm
    .label('socket')
    .load(SECCOMP_DATA.argLow(0))
    .jumpIfEqual(AF_PACKET, 'eperm')
    .jumpIfEqual(AF_INET, 'socket-type')
    .jumpIfEqual(AF_INET6, 'socket-type')
    .ret(SECCOMP_RET.ALLOW)
    .label('socket-type')
    .load(SECCOMP_DATA.argLow(1))
    .and(SOCK_TYPE_MASK)
    .jumpIfEqual(SOCK_RAW, 'eperm')
    .jumpIfEqual(SOCK_PACKET, 'eperm')
    .ret(SECCOMP_RET.ALLOW);

  // ioctl(fd, cmd, ...): no typing into, or taking over, the terminal.
  asm
    .label('ioctl')
    .load(SECCOMP_DATA.argLow(1))
    .jumpIfEqual(TIOCSTI, 'eperm')
    .jumpIfEqual(TIOCLINUX, 'eperm')
    .ret(SECCOMP_RET.ALLOW);

  // personality(persona): only the harmless values.
  asm.label('personality').load(SECCOMP_DATA.argLow(0));
  for (const value of ALLOWED_PERSONALITIES) asm.jumpIfEqual(value, 'allow');
  asm.jump('eperm');

  asm.label('allow').ret(SECCOMP_RET.ALLOW);
  asm.label('eperm').ret(errno(EPERM));
  asm.label('enosys').ret(errno(ENOSYS));
  asm.label('kill').ret(SECCOMP_RET.KILL_PROCESS);
  return asm.build();
}

const compiled = new Map<SeccompArch, Buffer>();

/** The filter as bytes, ready for bubblewrap's --seccomp fd (compiled once per process). */
export function compileSeccompFilter(arch: SeccompArch): Buffer {
  let bytes = compiled.get(arch);
  if (!bytes) {
    bytes = encodeProgram(compileSeccompProgram(arch));
    compiled.set(arch, bytes);
  }
  return bytes;
}

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
// arguments matter (clone, unshare, socket, ioctl, personality) inspect those arguments.
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
  asm.ret(SECCOMP_RET.ALLOW);

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

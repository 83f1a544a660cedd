import { BPF, type SockFilter } from '../../src/supervisor/sandbox/seccomp/bpf-assembler.ts';

// Executes a seccomp classic-BPF program the way the kernel does, for the opcodes our
// assembler emits, so tests can ask "what does the filter return for this syscall?" without
// trusting the generator's own idea of its layout. An unknown opcode or a jump off the end
// throws: the kernel would have rejected the program.

export interface SeccompInput {
  readonly arch: number;
  readonly nr: number;
  /** Up to six arguments; each is split into two 32-bit words (little-endian). */
  readonly args?: readonly bigint[];
}

function word(input: SeccompInput, offset: number): number {
  if (offset === 0) return input.nr >>> 0;
  if (offset === 4) return input.arch >>> 0;
  if (offset >= 16 && offset < 64 && offset % 4 === 0) {
    const arg = input.args?.[Math.floor((offset - 16) / 8)] ?? 0n;
    const high = (offset - 16) % 8 === 4;
    return Number(high ? (arg >> 32n) & 0xffffffffn : arg & 0xffffffffn);
  }
  throw new Error(`load from unsupported seccomp_data offset ${offset}`);
}

/** The filter's return value (SECCOMP_RET_*) for one syscall. */
export function runFilter(program: readonly SockFilter[], input: SeccompInput): number {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const insn = program[pc]!;
    switch (insn.code) {
      case BPF.LD_W_ABS:
        a = word(input, insn.k);
        break;
      case BPF.ALU_AND_K:
        a = (a & insn.k) >>> 0;
        break;
      case BPF.JMP_JA:
        pc += insn.k;
        break;
      case BPF.JMP_JEQ_K:
        pc += a === insn.k >>> 0 ? insn.jt : insn.jf;
        break;
      case BPF.JMP_JGE_K:
        pc += a >= insn.k >>> 0 ? insn.jt : insn.jf;
        break;
      case BPF.JMP_JSET_K:
        pc += (a & insn.k) !== 0 ? insn.jt : insn.jf;
        break;
      case BPF.RET_K:
        return insn.k >>> 0;
      default:
        throw new Error(`unsupported opcode 0x${insn.code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('program fell off the end without returning');
}

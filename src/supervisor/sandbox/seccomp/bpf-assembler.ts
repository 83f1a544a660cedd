// A classic-BPF assembler for seccomp programs: just the instructions a syscall filter needs,
// with symbolic jump labels resolved into the 8-bit relative offsets the kernel expects.
// We generate the program ourselves rather than link libseccomp: it is small, and every
// instruction is visible to the tests that decode it.

/** Opcodes (linux/bpf_common.h): class | size | mode, or class | op | source. */
export const BPF = {
  LD_W_ABS: 0x20, // A = *(u32 *)(seccomp_data + k)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05, // pc += k
  JMP_JEQ_K: 0x15, // pc += (A == k) ? jt : jf
  JMP_JGE_K: 0x35, // pc += (A >= k) ? jt : jf
  JMP_JSET_K: 0x45, // pc += (A & k) ? jt : jf
  RET_K: 0x06, // return k
} as const;

/** The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
export const BPF_MAX_INSTRUCTIONS = 4096;

/** One decoded instruction, as the kernel stores it (struct sock_filter). */
export interface SockFilter {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/** An instruction whose jump targets may still be labels; `next` means fall through. */
type Target = string | 'next';
type Item =
  | { kind: 'label'; name: string }
  | { kind: 'op'; code: number; k: number; jt: Target; jf: Target; ja?: string };

/** Builds a program in order; `build()` resolves labels and checks every offset fits. */
export class BpfAssembler {
  readonly #items: Item[] = [];

  label(name: string): this {
    this.#items.push({ kind: 'label', name });
    return this;
  }

  /** A = the 32-bit word at `offset` in struct seccomp_data. */
  load(offset: number): this {
    return this.#op(BPF.LD_W_ABS, offset);
  }

  and(mask: number): this {
    return this.#op(BPF.ALU_AND_K, mask);
  }

  jumpIfEqual(value: number, whenTrue: Target, whenFalse: Target = 'next'): this {
    return this.#op(BPF.JMP_JEQ_K, value, whenTrue, whenFalse);
  }

  jumpIfAtLeast(value: number, whenTrue: Target, whenFalse: Target = 'next'): this {
    return this.#op(BPF.JMP_JGE_K, value, whenTrue, whenFalse);
  }

  jumpIfAnyBit(mask: number, whenTrue: Target, whenFalse: Target = 'next'): this {
    return this.#op(BPF.JMP_JSET_K, mask, whenTrue, whenFalse);
  }

  jump(target: string): this {
    this.#items.push({ kind: 'op', code: BPF.JMP_JA, k: 0, jt: 'next', jf: 'next', ja: target });
    return this;
  }

  ret(value: number): this {
    return this.#op(BPF.RET_K, value);
  }

  #op(code: number, k: number, jt: Target = 'next', jf: Target = 'next'): this {
    this.#items.push({ kind: 'op', code, k: k >>> 0, jt, jf });
    return this;
  }

  build(): SockFilter[] {
    const at = new Map<string, number>();
    let pc = 0;
    for (const item of this.#items) {
      if (item.kind === 'label') {
        if (at.has(item.name)) throw new Error(`BPF label ${item.name} defined twice`);
        at.set(item.name, pc);
      } else pc++;
    }
    const program: SockFilter[] = [];
    const offset = (from: number, target: Target, limit: number): number => {
      if (target === 'next') return 0;
      const to = at.get(target);
      if (to === undefined) throw new Error(`BPF label ${target} is not defined`);
      const distance = to - from - 1;
      if (distance < 0 || distance > limit)
        throw new Error(`BPF jump to ${target} out of range (${distance})`);
      return distance;
    };
    for (const item of this.#items) {
      if (item.kind === 'label') continue;
      const index = program.length;
      if (item.ja !== undefined) {
        program.push({ code: item.code, jt: 0, jf: 0, k: offset(index, item.ja, 0xffffffff) });
      } else {
        program.push({
          code: item.code,
          jt: offset(index, item.jt, 255),
          jf: offset(index, item.jf, 255),
          k: item.k,
        });
      }
    }
    if (program.length > BPF_MAX_INSTRUCTIONS) throw new Error(`BPF program too long (${program.length})`);
    return program;
  }
}

/** Serialises a program as the kernel reads it from bwrap's --seccomp fd (host byte order). */
export function encodeProgram(program: readonly SockFilter[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** The inverse of encodeProgram, for tests and `paddock doctor`-style inspection. */
export function decodeProgram(bytes: Uint8Array): SockFilter[] {
  if (bytes.length % 8 !== 0) throw new Error('a BPF program is a whole number of 8-byte instructions');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const program: SockFilter[] = [];
  for (let at = 0; at < view.length; at += 8) {
    program.push({
      code: view.readUInt16LE(at),
      jt: view[at + 2]!,
      jf: view[at + 3]!,
      k: view.readUInt32LE(at + 4),
    });
  }
  return program;
}

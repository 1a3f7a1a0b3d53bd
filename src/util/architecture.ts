// The machine's architecture as systemd names it (Manager.Architecture, the %a specifier).
const ARCHITECTURES: Record<string, string> = {
  x64: 'x86-64',
  ia32: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64-le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
};

export function architecture(): string {
  return ARCHITECTURES[process.arch] ?? process.arch;
}

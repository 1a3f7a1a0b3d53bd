// Facts about the machine the Manager interface reports: architecture, virtualization, features.
import { existsSync, readFileSync } from 'node:fs';
export { architecture } from '../util/architecture.js';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** systemd-detect-virt in short: containers by their marks, then the hypervisor by DMI. */
export function virtualization(): string {
  const container = process.env.container;
  if (container) return container === 'oci' ? 'docker' : container;
  if (existsSync('/run/.containerenv')) return 'podman';
  if (existsSync('/.dockerenv')) return 'docker';
  const vendor = readOr('/sys/class/dmi/id/sys_vendor', '') + readOr('/sys/class/dmi/id/product_name', '');
  if (/QEMU/i.test(vendor)) return 'qemu';
  if (/KVM/i.test(vendor)) return 'kvm';
  if (/VMware/i.test(vendor)) return 'vmware';
  if (/VirtualBox|innotek/i.test(vendor)) return 'oracle';
  if (/Microsoft/i.test(vendor)) return 'microsoft';
  if (/Amazon EC2/i.test(vendor)) return 'amazon';
  if (/\bhypervisor\b/.test(readOr('/proc/cpuinfo', ''))) return 'vm-other';
  return '';
}

/** Compile-time features in systemd's format: unitd has none of the optional libraries. */
export const FEATURES =
  '-PAM -AUDIT -SELINUX -APPARMOR -IMA -SMACK -SECCOMP -GCRYPT -GNUTLS -OPENSSL -ACL -BLKID -CURL ' +
  '-ELFUTILS -FIDO2 -IDN2 -IDN -IPTC -KMOD -LIBCRYPTSETUP -LIBFDISK -PCRE2 -PWQUALITY -P11KIT -QRENCODE ' +
  '-TPM2 -BZIP2 -LZ4 -XZ -ZLIB -ZSTD -BPF_FRAMEWORK -XKBCOMMON -UTMP -SYSVINIT default-hierarchy=unified';

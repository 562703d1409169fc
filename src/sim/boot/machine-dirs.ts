// Where one booted machine keeps what it holds: `root/` is its file system (what
// cloud-init wrote, kubeadm's PKI, etcd's data), `log/` its processes' output, `sim/`
// the simulator's own notes on it (the superuser identity the emulation acts with).
// Machine paths are absolute paths on the machine; `path()` maps them under root/ and
// never outside it, whatever `..` the user data holds.
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import type { BootFile } from "./cloud-init.ts";
import type { CaPair } from "./pki.ts";

export class MachineDirs {
  readonly root: string;
  readonly logs: string;
  readonly sim: string;

  constructor(readonly base: string) {
    this.root = join(base, "root");
    this.logs = join(base, "log");
    this.sim = join(base, "sim");
  }

  /** The host path of an absolute machine path. */
  path(machinePath: string): string {
    return join(this.root, posix.resolve("/", machinePath));
  }

  async create(): Promise<void> {
    for (const dir of [this.root, this.logs, this.sim]) await mkdir(dir, { recursive: true, mode: 0o700 });
  }

  /** write_files, as cloud-init leaves them (owners are not emulated: everything belongs to the simulator's user). */
  async writeFiles(files: ReadonlyMap<string, BootFile>): Promise<void> {
    for (const file of files.values()) await this.writeFile(file.path, file.content, file.permissions);
  }

  async writeFile(machinePath: string, content: string | Buffer, mode: number): Promise<void> {
    await this.writeHostFile(this.path(machinePath), content, mode);
  }

  async writeHostFile(path: string, content: string | Buffer, mode: number): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    // A key must never sit in a file others can read, even for a moment: the old file
    // goes first (writeFile's mode applies only to a new one), chmod undoes the umask.
    await rm(path, { force: true });
    await writeFile(path, content, { mode });
    await chmod(path, mode);
  }

  async readFile(machinePath: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(machinePath), "utf8");
    } catch {
      return undefined;
    }
  }

  /** Everything the machine held: a release, or memory lost at power-off. */
  async remove(): Promise<void> {
    await rm(this.base, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** A CA's certificate and key from `<dir>/<name>.crt|.key` among the written files, or which file is missing. */
export function caPairFrom(files: ReadonlyMap<string, BootFile>, dir: string, name: string): CaPair | { missing: string } {
  const certPath = posix.join(dir, `${name}.crt`);
  const keyPath = posix.join(dir, `${name}.key`);
  const cert = files.get(certPath);
  const key = files.get(keyPath);
  if (cert === undefined) return { missing: certPath };
  if (key === undefined) return { missing: keyPath };
  return { certPem: cert.content.toString("utf8"), keyPem: key.content.toString("utf8") };
}

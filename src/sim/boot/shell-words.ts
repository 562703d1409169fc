// Splits one runcmd line the way /bin/sh would read it, far enough to see which simple
// commands it runs: cloud-init writes each runcmd string as one line of a shell script
// (cloudinit/util.py shellify), so `kubeadm init --config f && echo success > s` is two
// commands joined by &&. Quotes and backslashes are honoured; expansions ($x, $(…),
// globs) are kept as written, since nothing here runs them.

export interface SimpleCommand {
  /** Words after quote removal, redirections left out. */
  words: string[];
  /** `>`/`>>` targets, e.g. [{ op: ">", target: "/run/cluster-api/bootstrap-success.complete" }]. */
  redirects: Array<{ op: string; target: string }>;
  /** The operator that joins it to the command before: "&&", "||", ";", "|", "&"; "" for the first. */
  joinedBy: string;
}

export class ShellSyntaxError extends Error {}

const OPERATORS = ["&&", "||", ">>", "2>", "&>", ";", "|", "&", ">", "<", "\n"];

/** The simple commands of one shell line, in order. */
export function splitCommandLine(line: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let current: SimpleCommand = { words: [], redirects: [], joinedBy: "" };
  let pendingRedirect: string | null = null;
  const finishWord = (word: string): void => {
    if (pendingRedirect !== null) {
      current.redirects.push({ op: pendingRedirect, target: word });
      pendingRedirect = null;
    } else {
      current.words.push(word);
    }
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "#") break; // a comment runs to the end of the line
    const op = OPERATORS.find((o) => line.startsWith(o, i));
    if (op !== undefined) {
      i += op.length;
      if ([">", ">>", "<", "2>", "&>"].includes(op)) {
        pendingRedirect = op;
        continue;
      }
      if (pendingRedirect !== null) throw new ShellSyntaxError(`a redirection "${pendingRedirect}" has no target`);
      if (current.words.length > 0 || current.redirects.length > 0) commands.push(current);
      current = { words: [], redirects: [], joinedBy: op === "\n" ? ";" : op };
      continue;
    }
    const [word, next] = readWord(line, i);
    finishWord(word);
    i = next;
  }
  if (pendingRedirect !== null) throw new ShellSyntaxError(`a redirection "${pendingRedirect}" has no target`);
  if (current.words.length > 0 || current.redirects.length > 0) commands.push(current);
  return commands;
}

/** One word from `start`: unquoted, '…', "…" and \x parts glued together. */
function readWord(line: string, start: number): [string, number] {
  let word = "";
  let i = start;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === " " || c === "\t" || OPERATORS.some((o) => o !== "2>" && line.startsWith(o, i))) break;
    if (c === "\\") {
      // A backslash-newline is a line continuation; any other escaped character is literal.
      if (line[i + 1] !== "\n") word += line[i + 1] ?? "";
      i += 2;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError("a single quote is never closed");
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new ShellSyntaxError("a double quote is never closed");
        const d = line[i] as string;
        if (d === '"') break;
        // Inside double quotes a backslash escapes only $ ` " \ and newline (POSIX 2.2.3).
        if (d === "\\" && ["$", "`", '"', "\\", "\n"].includes(line[i + 1] ?? "")) {
          if (line[i + 1] !== "\n") word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else {
      word += c;
      i++;
    }
  }
  return [word, i];
}

/** How cloud-init writes a runcmd list entry as a shell line: each item single-quoted (util.py shellify). */
export function shellifyList(items: readonly unknown[]): string {
  return items.map((item) => `'${pythonStr(item).replace(/'/g, "'\\''")}'`).join(" ");
}

/** Python's str() of what PyYAML gives for a scalar. */
export function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}

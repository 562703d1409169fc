import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { shellifyList, ShellSyntaxError, splitCommandLine } from "./shell-words.ts";

const words = (line: string): Array<[string, string[]]> => splitCommandLine(line).map((c) => [c.joinedBy, c.words]);

describe("splitting a runcmd line as /bin/sh reads it", () => {
  const cases: Array<[string, string, Array<[string, string[]]>]> = [
    ["words", "kubeadm init --config /run/kubeadm/kubeadm.yaml", [["", ["kubeadm", "init", "--config", "/run/kubeadm/kubeadm.yaml"]]]],
    ["commands joined by && (CABPK's double space kept out)", "kubeadm init --config f  && echo success", [["", ["kubeadm", "init", "--config", "f"]], ["&&", ["echo", "success"]]]],
    ["every separator", "a; b || c | d & e", [["", ["a"]], [";", ["b"]], ["||", ["c"]], ["|", ["d"]], ["&", ["e"]]]],
    ["quotes glued to words", `echo 'a b'"c d"e\\ f`, [["", ["echo", "a bc de f"]]]],
    ["escapes inside double quotes", `echo "\\$x \\" \\a"`, [["", ["echo", '$x " \\a']]]],
    ["a comment", "echo a # not this", [["", ["echo", "a"]]]],
    ["a # inside a word", "echo a#b", [["", ["echo", "a#b"]]]],
    ["expansions as written", "echo $(date) ${HOME}", [["", ["echo", "$(date)", "${HOME}"]]]],
  ];
  for (const [name, line, expected] of cases) {
    it(`splits ${name}`, () => assert.deepEqual(words(line), expected));
  }

  it("takes redirections out of the words", () => {
    const [echo] = splitCommandLine("echo success > /run/cluster-api/bootstrap-success.complete 2>/dev/null");
    assert.deepEqual(echo?.words, ["echo", "success"]);
    assert.deepEqual(echo?.redirects, [{ op: ">", target: "/run/cluster-api/bootstrap-success.complete" }, { op: "2>", target: "/dev/null" }]);
  });

  const broken: Array<[string, string]> = [
    ["an unclosed single quote", "echo 'a"],
    ["an unclosed double quote", 'echo "a'],
    ["a redirection without a target", "echo a >"],
  ];
  for (const [name, line] of broken) {
    it(`refuses ${name}`, () => assert.throws(() => splitCommandLine(line), ShellSyntaxError));
  }
});

describe("a runcmd list entry", () => {
  it("becomes single-quoted words, as cloud-init's shellify writes it", () => {
    assert.equal(shellifyList(["echo", "it's", 5, true, null]), `'echo' 'it'\\''s' '5' 'True' 'None'`);
  });
});

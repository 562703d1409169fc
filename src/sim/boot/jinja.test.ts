import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JinjaError, maasInstanceData, renderJinja } from "./jinja.ts";

const vars = maasInstanceData({ systemId: "abc123", fqdn: "brave-otter.maas.test" });
const render = (template: string): string => renderJinja(template, vars).text;

describe("Jinja rendering of user data on a MAAS machine", () => {
  describe("the variables cloud-init offers there", () => {
    const cases: Array<[string, string]> = [
      ["{{ v1.local_hostname }}", "brave-otter"],
      ["{{v1.local_hostname}}", "brave-otter"],
      ["{{ v1['local-hostname'] }}", "brave-otter"],
      ['{{ v1["local_hostname"] }}', "brave-otter"],
      ["{{ local_hostname }}", "brave-otter"],
      ["{{ v1.instance_id }}", "abc123"],
      ["{{ instance_id }}", "abc123"],
      ["{{ v1.cloud_name }}/{{ v1.platform }}", "maas/maas"],
      ["{{ ds.meta_data.local_hostname }}", "brave-otter.maas.test"],
      ["{{ ds.meta_data['local-hostname'] }}", "brave-otter.maas.test"],
      ["{{ ds.meta_data.instance_id }}", "abc123"],
    ];
    for (const [template, expected] of cases) {
      it(`renders ${template} as ${expected}`, () => assert.equal(render(template), expected));
    }
  });

  describe("text around the tags", () => {
    const cases: Array<[string, string, string]> = [
      ["keeps text and newlines as they are", "name: '{{ v1.local_hostname }}'\nnext: 1\n", "name: 'brave-otter'\nnext: 1\n"],
      ["trims whitespace before {{- and after -}}", "a  \n  {{- v1.instance_id -}}  \n  b", "aabc123b"],
      ["drops comments and the newline after them (trim_blocks)", "a\n{# a comment #}\nb", "a\nb"],
      ["keeps a raw block verbatim", "{% raw %}\n{{ not.a.variable }} {% if %}{% endraw %}\nz", "\n{{ not.a.variable }} {% if %}z"],
      ["leaves single braces and shell expansions alone", "echo ${HOME} {a,b} $(date)", "echo ${HOME} {a,b} $(date)"],
    ];
    for (const [name, template, expected] of cases) {
      it(name, () => assert.equal(render(template), expected));
    }
  });

  describe("a variable MAAS does not give", () => {
    const cases: Array<[string, string, string]> = [
      ["{{ ds.meta_data.hostname }}", "CI_MISSING_JINJA_VAR/hostname", "ds.meta_data.hostname"],
      ["{{ v1.region }}", "CI_MISSING_JINJA_VAR/region", "v1.region"],
      ["{{ nothing_here }}", "CI_MISSING_JINJA_VAR/nothing_here", "nothing_here"],
      ["{{ v1 }}", "CI_MISSING_JINJA_VAR/v1", "v1"],
    ];
    for (const [template, rendered, name] of cases) {
      it(`renders ${template} as cloud-init does and reports ${name}`, () => {
        assert.deepEqual(renderJinja(`x ${template} y`, vars), { text: `x ${rendered} y`, missing: [name] });
      });
    }
  });

  describe("what is not emulated or not Jinja", () => {
    const cases: Array<[string, string, RegExp]> = [
      ["a filter", "a\n{{ v1.local_hostname | upper }}", /line 2: only variable lookups .* are emulated/],
      ["a Go template (which real cloud-init refuses too)", "x {{.State.Running}}", /line 1: only variable lookups/],
      ["an if statement", "{% if v1.local_hostname %}x{% endif %}", /the Jinja statement \{% if %\} is not emulated/],
      ["an unclosed variable", "a\nb {{ v1.local_hostname", /line 2: "\{\{" is never closed with "\}\}"/],
      ["a shell length expansion that opens a comment", "n=${#list}", /line 1: "\{#" is never closed with "#\}"/],
      ["an unclosed raw block", "{% raw %} x", /\{% raw %\} is never closed/],
    ];
    for (const [name, template, message] of cases) {
      it(`refuses ${name}, naming the line`, () => {
        assert.throws(() => renderJinja(template, vars), (e: unknown) => e instanceof JinjaError && message.test(e.message));
      });
    }
  });
});

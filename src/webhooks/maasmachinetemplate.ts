// MaasMachineTemplate: the same defaulting and value checks as a MaasMachine at
// `spec.template.spec`, the labels and annotations CAPI copies at `spec.template.metadata`,
// and the whole `spec.template.spec` immutable, as CAPI's contract for
// InfraMachineTemplates has it: machines made from a template are never updated from it,
// so an edit would only make the template lie about its machines. CAPI's topology
// dry-runs pass (they compute a diff, and the real update that may follow is refused).
import type { MaasMachineTemplate } from "../api/v1beta1/index.ts";
import { forbidden } from "./field-errors.ts";
import { defaultMachineSpec, memoryWarnings, sameMachineSpec, validateMachineSpec, type MachineSpecRules } from "./machine-spec.ts";
import { validateTemplateMetadata } from "./template-metadata.ts";
import { child, type KindWebhook } from "./webhook.ts";

const PATH = "spec.template.spec";
const METADATA_PATH = "spec.template.metadata";

export const TEMPLATE_IMMUTABLE_FIX =
  "create a new MaasMachineTemplate with the change and point the MachineDeployment's spec.template.spec.infrastructureRef " +
  "(or the KubeadmControlPlane's spec.machineTemplate.spec.infrastructureRef) at it; CAPI then rolls the machines";

export function maasMachineTemplateWebhook(rules: MachineSpecRules): KindWebhook<MaasMachineTemplate> {
  return {
    kind: "MaasMachineTemplate",
    default(object) {
      const spec = child(child(child(object, "spec") ?? {}, "template") ?? {}, "spec");
      return spec === undefined ? [] : defaultMachineSpec(spec, PATH);
    },
    validateCreate(template) {
      const spec = template.spec.template.spec;
      const errors = [...validateTemplateMetadata(template.spec.template.metadata, METADATA_PATH), ...validateMachineSpec(spec, PATH)];
      return { errors, warnings: memoryWarnings(spec, PATH, rules) };
    },
    validateUpdate(oldTemplate, newTemplate, context) {
      const spec = newTemplate.spec.template.spec;
      const errors = [...validateTemplateMetadata(newTemplate.spec.template.metadata, METADATA_PATH), ...validateMachineSpec(spec, PATH)];
      const { same, changed } = sameMachineSpec(oldTemplate.spec.template.spec, spec);
      // An unchanged spec (the controller's status writes, re-applies) gets no warning again.
      if (same) return { errors, warnings: [] };
      const warnings = memoryWarnings(spec, PATH, rules);
      if (context.skipImmutability) return { errors, warnings };
      const detail = `MaasMachineTemplate spec is immutable (changed: ${changed.join(", ")}); ${TEMPLATE_IMMUTABLE_FIX}`;
      return { errors: [...errors, forbidden(PATH, detail)], warnings };
    },
  };
}

import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

// Validates Kubernetes objects against the published schemas in ../shared/schemas (read in
// place, never copied): the Kubernetes 1.28 OpenAPI document for built-in kinds, and the CRD
// schemas of KubeVirt, CDI, OVN-Kubernetes, network-policy-api and OpenShift for the rest.
//
// Two things make the check stricter than a plain schema pass, so it behaves like an API server
// asked for fieldValidation=Strict: every object schema that lists properties and neither sets
// additionalProperties nor preserves unknown fields gets additionalProperties: false (the API
// server would prune or reject those fields), and a CRD's untyped `metadata` is checked against
// the real ObjectMeta. CEL rules (x-kubernetes-validations) are not evaluated here; the rules
// Paddock relies on are its own admission checks, tested by name.

export const SCHEMAS_DIR = new URL('../../../shared/schemas/', import.meta.url);

const K8S_ID = 'k8s-1.28';
const OBJECT_META = `${K8S_ID}#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;

type Schema = Record<string, unknown>;

function readJson(path: string): Schema {
  return JSON.parse(readFileSync(new URL(path, SCHEMAS_DIR), 'utf8')) as Schema;
}

function readYaml(path: string): Schema {
  return parse(readFileSync(new URL(path, SCHEMAS_DIR), 'utf8')) as Schema;
}

/** additionalProperties: false wherever the API server would not keep an unknown field. */
export function strictify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictify);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) {
    // openshift/api writes `anyOf: null` to clear a generated int-or-string anyOf: not a schema.
    if (value === null && (key === 'anyOf' || key === 'oneOf' || key === 'allOf')) continue;
    // `properties` maps names to schemas: recurse into each schema, not into the map itself as a schema.
    if (key === 'properties' && value && typeof value === 'object')
      out[key] = Object.fromEntries(
        Object.entries(value as Schema).map(([name, child]) => [name, strictify(child)]),
      );
    // The 1.28 document lists some enum values twice (the enum info was merged in); JSON Schema forbids that.
    else if (key === 'enum' && Array.isArray(value)) out[key] = [...new Set(value)];
    else out[key] = strictify(value);
  }
  if (
    out['properties'] !== undefined &&
    out['additionalProperties'] === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out['additionalProperties'] = false;
  return out;
}

function crdSchema(path: string, version: string | undefined): Schema {
  const document = readYaml(path);
  let schema: Schema;
  if ('openAPIV3Schema' in document) schema = document['openAPIV3Schema'] as Schema;
  else {
    const versions = (
      document['spec'] as { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] }
    ).versions;
    const found = versions.find((entry) => entry.name === version);
    if (!found) throw new Error(`${path}: no version ${version}`);
    schema = found.schema.openAPIV3Schema;
  }
  const strict = strictify(schema) as Schema;
  const properties = strict['properties'] as Schema;
  // The real ObjectMeta, and whatever the CRD adds (the EgressFirewall's name pattern), unstrictified.
  const own = (schema['properties'] as Schema | undefined)?.['metadata'];
  properties['metadata'] = own ? { allOf: [{ $ref: OBJECT_META }, own] } : { $ref: OBJECT_META };
  return strict;
}

function kubernetesDocument(): Schema {
  const document = readJson('kubernetes-openapi-spec/openapi/1.28.0.json');
  const definitions = strictify(document['definitions']) as Record<string, Schema>;
  // Swagger types these as strings with a format; YAML manifests write numbers for them.
  definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
  };
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = {
    anyOf: [{ type: 'number' }, { type: 'string' }],
  };
  return { $id: K8S_ID, definitions };
}

const BUILT_IN: Record<string, string> = {
  'v1/Namespace': 'io.k8s.api.core.v1.Namespace',
  'v1/Secret': 'io.k8s.api.core.v1.Secret',
  'v1/Service': 'io.k8s.api.core.v1.Service',
  'v1/ServiceAccount': 'io.k8s.api.core.v1.ServiceAccount',
  'v1/ConfigMap': 'io.k8s.api.core.v1.ConfigMap',
  'apps/v1/Deployment': 'io.k8s.api.apps.v1.Deployment',
  'policy/v1/PodDisruptionBudget': 'io.k8s.api.policy.v1.PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'io.k8s.api.networking.v1.NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role': 'io.k8s.api.rbac.v1.Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'io.k8s.api.rbac.v1.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'io.k8s.api.rbac.v1.ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'io.k8s.api.rbac.v1.ClusterRoleBinding',
};

const CUSTOM: Record<string, { readonly file: string; readonly version?: string }> = {
  'kubevirt.io/v1/VirtualMachine': { file: 'kubevirt/extracted-crd-validation/virtualmachine.yaml' },
  'cdi.kubevirt.io/v1beta1/DataVolume': { file: 'cdi/extracted-crds/datavolume.yaml', version: 'v1beta1' },
  'k8s.ovn.org/v1/EgressFirewall': {
    file: 'ovn-kubernetes/helm/ovn-kubernetes/crds/k8s.ovn.org_egressfirewalls.yaml',
    version: 'v1',
  },
  'policy.networking.k8s.io/v1alpha1/AdminNetworkPolicy': {
    // The experimental channel: its `networks` egress peer (CIDRs) is what OVN-Kubernetes implements.
    file: 'network-policy-api/v0.1.5/config/crd/experimental/policy.networking.k8s.io_adminnetworkpolicies.yaml',
    version: 'v1alpha1',
  },
  'route.openshift.io/v1/Route': {
    file: 'openshift-api/route/v1/zz_generated.crd-manifests/routes.crd.yaml',
    version: 'v1',
  },
};

/** `apiVersion/kind` pairs this module has a schema for. */
export const KNOWN_KINDS: readonly string[] = [...Object.keys(BUILT_IN), ...Object.keys(CUSTOM)];

let ajv: Ajv.default | undefined;

function instance(): Ajv.default {
  if (ajv) return ajv;
  const created = new Ajv.default({ allErrors: true, strict: false, logger: false });
  addFormats.default(created);
  for (const name of ['int32', 'int64', 'byte', 'double', 'float', 'int-or-string', 'quantity'])
    created.addFormat(name, true);
  created.addSchema(kubernetesDocument());
  ajv = created;
  return created;
}

const compiled = new Map<string, Ajv.ValidateFunction>();

function validatorFor(key: string): Ajv.ValidateFunction {
  const cached = compiled.get(key);
  if (cached) return cached;
  const validator = instance();
  const builtIn = BUILT_IN[key];
  const custom = CUSTOM[key];
  let validate: Ajv.ValidateFunction | undefined;
  if (builtIn) validate = validator.getSchema(`${K8S_ID}#/definitions/${builtIn}`);
  else if (custom) validate = validator.compile(crdSchema(custom.file, custom.version));
  if (!validate) throw new Error(`no schema for ${key}: add it to test/support/kube-schemas.ts`);
  compiled.set(key, validate);
  return validate;
}

/** Schema errors of one object as `instancePath message` lines (empty when valid); throws for a kind without a schema. */
export function schemaErrors(object: { apiVersion?: unknown; kind?: unknown }): string[] {
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const validate = validatorFor(key);
  if (validate(object)) return [];
  return (validate.errors ?? []).map(
    (error) =>
      `${key} ${error.instancePath || '/'} ${error.message ?? ''}${error.params ? ` ${JSON.stringify(error.params)}` : ''}`,
  );
}

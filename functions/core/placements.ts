/**
 * Placements: where a request may land. The primary (the request's own provider, region or location, and cluster)
 * and up to MAX_ALTERNATIVES alternatives, tried in order when the one before is short of capacity. An alternative
 * names its provider and place, and either a whole `cluster` body (required when its provider differs from the
 * primary's) or a `patch`: an RFC 7396 JSON merge patch over the primary's cluster.
 *
 * An offering is what capacity is short of: provider, region or location, instance type. Its key is
 * `<provider>#<region or location>#<instance type or TIR sku>`; the shared memory of short offerings is keyed by it.
 */
import type { FieldError } from './errors';
import type { Alternative, ProvisionRequest, SageMakerClusterSpec, TirClusterSpec } from './request';

export type { Alternative };

export const MAX_ALTERNATIVES = 8;

export type Placement =
  | { provider: 'sagemaker'; region: string; cluster: SageMakerClusterSpec }
  | { provider: 'tir'; projectId: number; location: string; activeIam?: number; cluster: TirClusterSpec };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7396: objects merge member by member, `null` removes a member, anything else replaces. */
export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
};

const alternativesOf = (request: ProvisionRequest): Alternative[] => request.alternatives ?? [];

/**
 * The alternative as a whole request of its own: the primary's top-level fields, the alternative's provider and place,
 * and its cluster (given, or the primary's patched). Validating this is validating the alternative.
 */
export const alternativeAsRequest = (request: ProvisionRequest, alternative: Alternative): Record<string, unknown> => {
  const {
    alternatives: _alts,
    provider: _p,
    region: _r,
    projectId: _pi,
    location: _l,
    activeIam: _ai,
    cluster,
    ...common
  } = request as ProvisionRequest & Record<string, unknown>;
  const { cluster: own, patch, ...where } = alternative;
  return { ...common, ...where, cluster: own ?? (patch !== undefined ? mergePatch(cluster, patch) : cluster) };
};

/**
 * Errors of the alternatives, each at its pointer under `/alternatives/<i>`: an alternative is checked as the whole
 * request it stands for, by the same validator as the primary. An error in a patched cluster points into the patch
 * when the patch wrote that member, else at the patch itself.
 */
export const alternativeErrors = (
  request: ProvisionRequest,
  validate: (input: unknown) => { errors: FieldError[] },
  defaultRegion?: string,
): FieldError[] => {
  const errors: FieldError[] = [];
  alternativesOf(request).forEach((alternative, i) => {
    const at = `/alternatives/${i}`;
    if (alternative.cluster !== undefined && alternative.patch !== undefined) {
      errors.push({ path: `${at}/patch`, message: 'cannot be set together with cluster: an alternative takes a whole cluster or a patch' });
      return;
    }
    if (alternative.provider !== request.provider && alternative.cluster === undefined) {
      errors.push({
        path: `${at}/cluster`,
        message: `is required: the alternative's provider (${alternative.provider}) differs from the request's`,
      });
      return;
    }
    const whole = alternativeAsRequest(request, alternative);
    if (alternative.provider === 'sagemaker' && whole.region === undefined && defaultRegion) whole.region = defaultRegion;
    for (const e of validate(whole).errors) {
      if (e.path.startsWith('/cluster') && alternative.cluster === undefined) {
        const inPatch = e.path.replace(/^\/cluster/, '/patch');
        // Into the patch when it wrote that member; else at the patch, naming the member of the patched cluster.
        if (pointerExists(alternative, inPatch)) errors.push({ path: `${at}${inPatch}`, message: e.message });
        else
          errors.push({
            path: `${at}/patch`,
            message: e.path === '/cluster' ? e.message : `makes ${e.path.slice('/cluster'.length)} invalid: it ${e.message}`,
          });
      } else if (e.path === '/capacityStrategy')
        // The request's strategy, refused at this alternative's provider: the error is the provider's.
        errors.push({ path: `${at}/provider`, message: `is ${alternative.provider}: capacityStrategy ${e.message}` });
      else errors.push({ path: `${at}${e.path}`, message: e.message });
    }
  });
  return errors;
};

const pointerExists = (root: unknown, pointer: string): boolean => {
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return false;
  }
  return true;
};

/** Every placement of an accepted request, the primary first. */
export const placementsOf = (request: ProvisionRequest, defaultRegion: string): Placement[] => {
  const primary = placementFrom(request as unknown as Record<string, unknown>, defaultRegion);
  return [
    primary,
    ...alternativesOf(request).map((alternative) => placementFrom(alternativeAsRequest(request, alternative), defaultRegion)),
  ];
};

const placementFrom = (r: Record<string, unknown>, defaultRegion: string): Placement =>
  r.provider === 'sagemaker'
    ? { provider: 'sagemaker', region: (r.region as string | undefined) ?? defaultRegion, cluster: r.cluster as SageMakerClusterSpec }
    : {
        provider: 'tir',
        projectId: r.projectId as number,
        location: r.location as string,
        ...(r.activeIam !== undefined ? { activeIam: r.activeIam as number } : {}),
        cluster: r.cluster as TirClusterSpec,
      };

export const clusterNameOfPlacement = (p: Placement): string => (p.provider === 'sagemaker' ? p.cluster.ClusterName : p.cluster.name);

/** Where a placement is, in words: `sagemaker us-west-2`, `tir Delhi`. */
export const whereOf = (p: Placement): string => (p.provider === 'sagemaker' ? `sagemaker ${p.region}` : `tir ${p.location}`);

/** The instance types a placement asks for (every type of every group, flexible groups included), or the TIR sku. */
export const instanceTypesOf = (p: Placement): string[] => {
  if (p.provider === 'tir') return [`sku-${p.cluster.sku_id}`];
  const types = new Set<string>();
  for (const g of p.cluster.InstanceGroups ?? []) {
    const group = g as { InstanceType?: string; InstanceRequirements?: { InstanceTypes?: string[] } };
    if (group.InstanceType) types.add(group.InstanceType);
    for (const t of group.InstanceRequirements?.InstanceTypes ?? []) types.add(t);
  }
  return [...types];
};

export const offeringKey = (p: Placement, instanceType: string): string =>
  `${p.provider}#${p.provider === 'sagemaker' ? p.region : p.location}#${instanceType}`;

/**
 * The offerings a shortage message is about: the instance types it names (EC2 names the type it lacks), else every
 * type of the placement.
 */
export const shortOfferings = (p: Placement, message: string | undefined): string[] => {
  const types = instanceTypesOf(p);
  const named = message ? types.filter((t) => message.includes(t)) : [];
  return (named.length > 0 ? named : types).map((t) => offeringKey(p, t));
};

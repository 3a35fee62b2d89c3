import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/**
 * One explicit AWS provider per region, named by region so that its identity never depends on a
 * table's role. Explicit providers ignore `aws:region` stack config, which is the point.
 */
export function regionalProviders(regions: Iterable<string>, opts?: pulumi.CustomResourceOptions): Record<string, aws.Provider> {
  const out: Record<string, aws.Provider> = {};
  for (const region of new Set(regions)) out[region] = new aws.Provider(`aws-${region}`, { region: region as aws.Region }, opts);
  return out;
}

import { isTagType } from '../../domain/tag-types.js';
import type { DriverModule } from '../registry.js';
import { asConnectionProblems } from '../shared/options.js';
import { parseNodeId } from './address.js';
import { readOpcUaOptions, readOpcUaTagOptions } from './options.js';

/** Checks of the project file's opcua connections and tags; light, so the loader need not load the protocol library. */
export const opcuaValidators: Pick<DriverModule, 'validateConnection' | 'validateTag'> = {
  validateConnection: (options) => asConnectionProblems(readOpcUaOptions(options).problems),
  validateTag(tag) {
    if (!isTagType(tag.type)) return `type '${tag.type}' is not a tag type`;
    if (tag.address === undefined) return 'address is required: the NodeId, such as "ns=2;s=Line1.Speed"';
    const p = parseNodeId(tag.address);
    if (!p.ok) return p.message;
    const problems = readOpcUaTagOptions(tag.options).problems;
    return problems.length > 0 ? problems.map(([k, m]) => `options.${k} ${m}`).join('; ') : undefined;
  },
};

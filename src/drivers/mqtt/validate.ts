import { isTagType } from '../../domain/tag-types.js';
import type { DriverModule } from '../registry.js';
import { asConnectionProblems } from '../shared/options.js';
import { readMqttOptions, readMqttTagOptions, topicProblem } from './options.js';

/** Checks of the project file's mqtt connections and tags; light, so the loader need not load the protocol library. */
export const mqttValidators: Pick<DriverModule, 'validateConnection' | 'validateTag'> = {
  validateConnection: (options) => asConnectionProblems(readMqttOptions(options).problems),
  validateTag(tag) {
    if (!isTagType(tag.type)) return `type '${tag.type}' is not a tag type`;
    if (tag.address === undefined) return 'address is required: the topic, such as "plant/line1/speed"';
    const problem = topicProblem(tag.address);
    if (problem) return problem;
    const problems = readMqttTagOptions(tag.options).problems;
    return problems.length > 0 ? problems.map(([k, m]) => `options.${k} ${m}`).join('; ') : undefined;
  },
};

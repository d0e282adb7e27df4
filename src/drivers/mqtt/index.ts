import { isTagType } from '../../domain/tag-types.js';
import type { DriverModule } from '../registry.js';
import { MqttDriver } from './driver.js';
import { readMqttOptions, readMqttTagOptions, topicProblem } from './options.js';

export { MqttDriver } from './driver.js';

/** The `mqtt` driver: `registerDriver('mqtt', mqtt)`. */
export const mqtt: DriverModule = {
  create: (connection, tags, host) => new MqttDriver(connection, tags, host),
  validateConnection: (options) => readMqttOptions(options).problems,
  validateTag(tag) {
    if (!isTagType(tag.type)) return `type '${tag.type}' is not a tag type`;
    if (tag.address === undefined) return 'address is required: the topic, such as "plant/line1/speed"';
    const problem = topicProblem(tag.address);
    if (problem) return problem;
    const problems = readMqttTagOptions(tag.options).problems;
    return problems.length > 0 ? problems.map(([k, m]) => `options.${k} ${m}`).join('; ') : undefined;
  },
};

export default mqtt;

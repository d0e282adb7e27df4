import type { DriverModule } from '../registry.js';
import { mqttValidators } from './validate.js';
import { MqttDriver } from './driver.js';

export { MqttDriver } from './driver.js';

/** The `mqtt` driver: `registerDriver('mqtt', mqtt)`. */
export const mqtt: DriverModule = {
  create: (connection, tags, host) => new MqttDriver(connection, tags, host),
  ...mqttValidators,
};

export default mqtt;

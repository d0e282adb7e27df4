// Time parameters are parsed by one pure function shared with the services (src/domain/time-param.ts).
export { isoTimeParam, timeParam, type ParamPart } from '../../../domain/time-param.js';

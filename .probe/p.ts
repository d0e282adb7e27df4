import { Compile } from 'typebox/compile';
import { ProjectSchema } from '../src/project/schema/project.ts';
const c = Compile(ProjectSchema);
const d = { name: 'x', connections: [{name:'a', driver:'internal'}], tags: [{ name: 'A', type: 'Flaot', connection: 'a', adress: 'x', simulation: {kind: 'sine', mn: 1} }] };
console.log(JSON.stringify([...c.Errors(d)], null, 1));

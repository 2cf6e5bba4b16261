// The lab's error is one domain of the project's error model (../errors.ts).
export { LabError } from '../errors.js';

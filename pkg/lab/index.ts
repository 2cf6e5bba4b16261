// The lab's public surface: simulated hosts on one machine, for `xctl lab`, the demo and tests.
export { LabError } from './errors.js';
export type { Lab, LabHost, LabRecord, ProcessEntry } from './types.js';
export { createUnderlay, createHost, openLab, labHosts, hostFor, netnsPath, UNDERLAY_SUBNET, UNDERLAY_GATEWAY } from './hosts.js';
export { startDockerd, stopDockerd, dockerAnswers, dockerArgv, type DockerDaemon } from './dockerd.js';
export { ensureBusyboxImage, busyboxRootfsTar, BUSYBOX_IMAGE } from './image.js';
export { destroyLab, labLeftovers, type DownReport } from './down.js';
export { hostExec, hostDocker, hostExecArgv, type ExecResult } from './exec.js';
export { DEFAULT_LAB_ID, defaultLabDir, labDirFor, readRecord } from './record.js';

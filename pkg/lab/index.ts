// The lab's public surface: simulated hosts on one machine, for `xctl lab`, the demo and tests.
export { LabError } from './errors.js';
export type { Lab, LabHost, LabRecord, ProcessEntry } from './types.js';
export { createUnderlay, createHost, openLab, labHosts, hostFor, netnsPath, UNDERLAY_SUBNET, UNDERLAY_GATEWAY } from './hosts.js';
export { startDockerd, stopDockerd, restartDockerd, crashAndRestartDockerd, clearDeadContainerd, dockerAnswers, dockerArgv, type DockerDaemon } from './dockerd.js';
export { ensureBusyboxImage, busyboxRootfsTar, BUSYBOX_IMAGE } from './image.js';
export { destroyLab, labLeftovers, type DownReport } from './down.js';
export { hostExec, hostDocker, hostExecArgv, type ExecResult } from './exec.js';
export { DEFAULT_LAB_ID, defaultLabDir, labDirFor, readRecord } from './record.js';
export { labUp, type LabUpOptions, type LabUp } from './up.js';
export { labStatus, type LabStatus } from './status.js';
export { startControlPlane, startLabEtcd, startController, startAgent, stopLabProcess, killLabProcess, labEndpoints, programPath, type Started } from './services.js';

// The error model: every domain error is an XnetError with a reason and a retryable flag,
// etcd3's errors are classified in one function, and xctl's exit code follows from the class.
import { describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import {
  ClientClosedError, EtcdError, EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCUnavailableError,
} from 'etcd3';
import {
  EtcdCompactedError, EtcdPermissionError, EtcdUnavailableError, ValidationError, XnetError,
} from '../../pkg/errors.js';
import { BrokenCircuitError } from 'cockatiel';
import { fromEtcdError, neverSent } from '../../pkg/etcd/errors.js';
import { CommandError } from '../../pkg/netlink/exec.js';
import { commandFailureReason } from '../../pkg/agent/dataplane.js';
import { EtcdConfigError } from '../../pkg/etcd/client.js';
import { CliError, EXIT, UsageError, exitCodeFor } from '../../pkg/cli/exit.js';
import { AlreadyExistsError, ConflictError, NotFoundError, StoreError } from '../../pkg/store/types.js';
import { InvalidObjectError } from '../../pkg/store/etcd-store.js';
import { ManifestError } from '../../pkg/manifest/errors.js';
import { UnknownKindError } from '../../pkg/api/kinds.js';
import { IpParseError } from '../../pkg/ip/ipv4.js';
import { AllocationError } from '../../pkg/ipam/plan.js';
import { WaitingError } from '../../pkg/controller/nic-errors.js';
import { RetryLater } from '../../pkg/controller/controller.js';
import { NotLeaderError } from '../../pkg/controller/txn-plan.js';
import { ConflictRetriesExceeded } from '../../pkg/controller/pool-executor.js';
import { ApplyError } from '../../pkg/agent/dataplane.js';
import { DockerError } from '../../pkg/docker/types.js';
import { LabError } from '../../pkg/lab/errors.js';
import { EtcdStartError } from '../../pkg/etcd/server.js';

describe('XnetError hierarchy', () => {
  it('gives every domain error a reason and says whether retrying alone can help', () => {
    const cases: Array<[XnetError, string, boolean]> = [
      [new NotFoundError('Node', 'n'), 'NotFound', false],
      [new ConflictError('Node', 'n', 'stale'), 'Conflict', false],
      [new InvalidObjectError('Node', 'n', [{ path: 'spec', message: 'bad' }]), 'Invalid', false],
      [new ManifestError([{ file: 'f', reason: 'r' }]), 'InvalidManifest', false],
      [new UnknownKindError('pod'), 'UnknownKind', false],
      [new IpParseError('x', 'bad'), 'InvalidAddress', false],
      [new EtcdConfigError('no endpoints'), 'EtcdConfig', false],
      [new AllocationError('PoolExhausted', 'full'), 'PoolExhausted', false],
      [new WaitingError('WaitingForHostSubnet', 'later'), 'WaitingForHostSubnet', true],
      [new RetryLater('Conflict', 'changed'), 'Conflict', true],
      [new ConflictRetriesExceeded('p'), 'Conflict', true],
      [new NotLeaderError(), 'NotLeader', false],
      [new DockerError('DockerUnavailable', 'down'), 'DockerUnavailable', true],
      [new DockerError('NetworkInUse', 'busy'), 'NetworkInUse', false],
      [new ApplyError('IptablesFailed', 'x'), 'IptablesFailed', false],
      [new CommandError('CommandFailed', ['ip'], 1, 'err'), 'CommandFailed', false],
      [new LabError('NotRoot', 'run as root', 'use sudo'), 'NotRoot', false],
      [new EtcdStartError('no etcd'), 'EtcdStartFailed', false],
    ];
    for (const [err, reason, retryable] of cases) {
      expect(err, err.constructor.name).toBeInstanceOf(XnetError);
      expect(err.reason, err.constructor.name).toBe(reason);
      expect(err.retryable, err.constructor.name).toBe(retryable);
    }
    expect(new LabError('NotRoot', 'run as root', 'use sudo').message).toBe('run as root (use sudo)');
  });
});

describe('fromEtcdError', () => {
  it('classifies etcd3 and gRPC failures by their class', () => {
    for (const e of [new GRPCUnavailableError('14 UNAVAILABLE'), new GRPCDeadlineExceededError('4 DEADLINE'), new ClientClosedError('KV')]) {
      const x = fromEtcdError(e);
      expect(x, e.constructor.name).toBeInstanceOf(EtcdUnavailableError);
      expect(x!.retryable).toBe(true);
      expect(x!.cause).toBe(e);
    }
    expect(fromEtcdError(new EtcdPermissionDeniedError('etcdserver: permission denied'))).toBeInstanceOf(EtcdPermissionError);
  });

  it('recognises compaction, which etcd reports only as text', () => {
    const e = new EtcdError('Watcher canceled: etcdserver: mvcc: required revision has been compacted');
    expect(fromEtcdError(e)).toBeInstanceOf(EtcdCompactedError);
    expect(fromEtcdError(e)).toBeInstanceOf(StoreError);
  });

  it('recognises untyped connection failures and leaves everything else alone', () => {
    expect(fromEtcdError(new Error('connect ECONNREFUSED 127.0.0.1:2379'))).toBeInstanceOf(EtcdUnavailableError);
    expect(fromEtcdError(new Error('boom'))).toBeUndefined();
    expect(fromEtcdError('not an error')).toBeUndefined();
    const own = new NotFoundError('Node', 'n');
    expect(fromEtcdError(own)).toBe(own);
  });

  it('takes a call refused by an open circuit for etcd unreachable, the call never sent (kv-cache-resume-circuit.test.ts)', () => {
    expect(fromEtcdError(new BrokenCircuitError())).toBeInstanceOf(EtcdUnavailableError);
    expect(neverSent(new BrokenCircuitError())).toBe(true);
    expect(exitCodeFor(new BrokenCircuitError())).toBe(EXIT.UNREACHABLE);
  });
});

describe('exitCodeFor', () => {
  it('derives the documented exit code from the error class', () => {
    const cases: Array<[unknown, number]> = [
      [new UsageError('bad flag'), EXIT.USAGE],
      [new EtcdConfigError('--cert/--key need --cacert'), EXIT.USAGE],
      [new ManifestError([{ file: 'f', reason: 'r' }]), EXIT.USAGE],
      [new InvalidObjectError('Node', 'n', []), EXIT.USAGE],
      [new ValidationError('Duplicate', 'Node/n appears twice'), EXIT.USAGE],
      [new CommanderError(1, 'commander.unknownOption', 'unknown option'), EXIT.USAGE],
      [new CommanderError(0, 'commander.helpDisplayed', '(help)'), EXIT.OK],
      [new ConflictError('Node', 'n', 'stale'), EXIT.CONFLICT],
      [new AlreadyExistsError('Node', 'n'), EXIT.CONFLICT],
      [new NotFoundError('Node', 'n'), EXIT.NOT_FOUND],
      [new GRPCUnavailableError('14 UNAVAILABLE: No connection established'), EXIT.UNREACHABLE],
      [new ClientClosedError('KV'), EXIT.UNREACHABLE],
      [new EtcdUnavailableError('down'), EXIT.UNREACHABLE],
      [new CliError(7, 'chosen'), 7],
      [new EtcdPermissionDeniedError('etcdserver: permission denied'), EXIT.FAILED],
      [new LabError('NotRoot', 'run as root'), EXIT.FAILED],
      [new Error('boom'), EXIT.FAILED],
    ];
    for (const [e, code] of cases) expect(exitCodeFor(e), (e as Error).constructor.name).toBe(code);
  });
});

describe('the condition reason of a failed host command', () => {
  const failed = (reason: 'CommandFailed' | 'CommandNotFound' | 'CommandTimedOut') => new CommandError(reason, ['x'], 1, 'boom');
  it('names the program that failed: sysctl is not iptables', () => {
    expect(commandFailureReason('sysctl.set', failed('CommandFailed'))).toBe('SysctlFailed');
    expect(commandFailureReason('sysctl.set', failed('CommandNotFound'))).toBe('SysctlFailed');
    expect(commandFailureReason('iptables.restore', failed('CommandFailed'))).toBe('IptablesFailed');
    expect(commandFailureReason('sysctl.set', failed('CommandTimedOut'))).toBe('CommandTimedOut');
  });
});

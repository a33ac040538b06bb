"""Named errors: the contract between the Lambdas and the state machine.

Step Functions sees a Lambda's exception class name as the error name, so the workflow's
`Retry` and `Catch` rules match these names. Renaming one is a breaking change to the
workflow. `tests/infrastructure/test_stack.py` checks that every name the workflow matches is
defined here; `tests/infrastructure/test_state_table.py` that every class here is raised by the
code (or says which other party uses its name).
"""


class DrAutopilotError(Exception):
    """Base of every error the workflow knows by name."""


# --- input -----------------------------------------------------------------------------------
class InvalidInput(DrAutopilotError):
    """The execution input does not follow the documented contract."""


# --- recovery provider (CloudEndure today, Elastic Disaster Recovery later) ------------------
class ProviderError(DrAutopilotError):
    """Base of errors raised by a recovery provider's client."""


class AuthenticationFailed(ProviderError):
    """The provider refused the credentials (bad or revoked API token)."""


class LicenseExpired(ProviderError):
    """The provider account has no active license."""


class ServiceUnavailable(ProviderError):
    """The provider kept failing (429, 5xx, dropped connections, timeouts) beyond the retry bounds."""


class InvalidResponse(ProviderError):
    """The provider answered with something that does not match its documented shape."""


class RequestRejected(ProviderError):
    """The provider rejected a request as invalid (HTTP 400)."""


class JobAlreadyRunning(ProviderError):
    """A job is already running for some of the machines (HTTP 409); never retried into a second launch."""


class NotFound(ProviderError):
    """Base of 'this thing does not exist' errors."""


class ProjectNotFound(NotFound):
    """The configured project does not exist in the account."""


class MachineNotFound(NotFound):
    """A configured or referenced machine does not exist."""


class AmbiguousMachineName(ProviderError):
    """Two or more machines carry a name the configuration uses: which one to launch, or whose
    address to put in DNS, would be a guess."""


class MachinesChanged(ProviderError):
    """The machines to launch are not the ones the replication check judged (added, removed or
    retagged in between): launching would recover a machine whose replication nobody checked."""


class JobNotFound(NotFound):
    """A job id is unknown to the provider."""


class ReplicaNotFound(NotFound):
    """A launched target machine is unknown to the provider."""


class NoPointInTime(ProviderError):
    """No recovery point exists at or before the requested time."""


# --- workflow decisions ------------------------------------------------------------------------
class MissingStepResult(DrAutopilotError):
    """A step ran without the result of an earlier step it depends on (the state machine's order
    was broken, or its input was edited by hand); nothing was done by this step."""


class ReplicationNotReady(DrAutopilotError):
    """Some machines are not in Continuous Data Replication or lag too far; failover refused."""


class JobFailed(DrAutopilotError):
    """The launch job ended in FAILED."""


class JobTimedOut(DrAutopilotError):
    """The launch job did not finish within the configured job timeout."""


class TargetNotFound(DrAutopilotError):
    """The recovered webserver has no reachable address (no replica, no public IP, not in EC2)."""


class TargetNotFromThisJob(DrAutopilotError):
    """The webserver's current target was not created by this execution's launch job (for example
    an earlier drill's, when this job's launch of the webserver failed): DNS never goes to it."""


class TargetUnhealthy(DrAutopilotError):
    """The landing page never became healthy within the bound; DNS is left untouched."""


class RecordOutsideZone(DrAutopilotError):
    """The record this run would switch does not lie in the configured hosted zone, or the zone
    does not exist: refused before any launch."""


class RecordTypeConflict(DrAutopilotError):
    """Route 53 would refuse the record this run would switch as configured: a CNAME at the zone
    apex, or a record of the other type already at that name. Refused before any launch."""


class DnsUpdateFailed(DrAutopilotError):
    """Route 53 refused the change or it did not reach INSYNC in time."""


class DnsThrottled(DrAutopilotError):
    """Route 53 throttled the change beyond botocore's retries (retried by the workflow: UPSERT is idempotent)."""


class DnsChangePending(DrAutopilotError):
    """The Route 53 change is not INSYNC yet (retried by the workflow)."""


class LaunchIncomplete(DrAutopilotError):
    """The job completed but not every machine has a launched target."""


class LaunchInProgress(DrAutopilotError):
    """An earlier attempt of this execution's LaunchRecovery is still in progress, or died after
    starting: retried until that attempt's in-progress window (its function's timeout) is over,
    then the launch is adopted (the provider lists the job this execution started)."""


class LockLost(DrAutopilotError):
    """This execution no longer holds its lock (it was redriven after the lock was released or
    taken over, or it ended and a step of it still ran): it launches nothing and changes no DNS.
    Start a new execution instead."""


class FinalMessageInFlight(DrAutopilotError):
    """Another attempt claimed the execution's final message and has not recorded it as sent (it
    may be publishing now, or have died): retried until it is sent or its claim lapses."""


class NotificationFailed(DrAutopilotError):
    """SNS did not take a message for on-call staff (after botocore's retries)."""


class ApprovalRejected(DrAutopilotError):
    """On-call staff rejected an alarm-started failover at the approval gate. Raised by no function:
    the CLI answers the task token with this name (`SendTaskFailure`)."""


class ApprovalTimedOut(DrAutopilotError):
    """Nobody answered the approval request in time and the configuration says abort. Raised by no
    function: the workflow's approval-timeout path records this name."""


# --- recovery provider: AWS Elastic Disaster Recovery ---------------------------------------------
class AccessDenied(ProviderError):
    """The provider refused a call for lack of permission (an IAM policy that does not grant the
    action, or one of its dependent actions): a deployment error, not retried."""


class ServiceNotInitialized(ProviderError):
    """The recovery service was never initialized in the configured account and region (DRS's
    UninitializedAccountException): there is nothing to recover there."""


class QuotaExceeded(ProviderError):
    """The provider refused a launch because an account quota (concurrent jobs, servers in active
    jobs) would be exceeded; that request started nothing, earlier batches may have started."""


class CleanupPending(DrAutopilotError):
    """The drill's instances are still being terminated after the clean-up step's wait: retried
    (each attempt asks again and terminates nothing twice)."""


class DnsRecordChanged(DrAutopilotError):
    """The record is no longer what this execution set: a restore leaves it as it is."""


class WavePlanInvalid(ProviderError):
    """The recovery plan's waves (by DRS tags) do not hold each server to recover exactly once:
    refused at the replication check, before anything is launched."""


class WaveCheckFailed(DrAutopilotError):
    """A wave's check did not pass within its timeout: the plan stops before the next wave."""


class RecoveryStarted(DrAutopilotError):
    """A recovery started (or its targets serve production) while this drill ran: the drill
    launches no further wave, which would replace the recovery's targets."""

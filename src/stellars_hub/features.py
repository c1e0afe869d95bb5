"""Every feature of the platform, in the order its routes and hooks are registered, and every
class that owns a setting. The config entry point (``hubconfig.apply``) hands both to the hub."""

from traitlets.config import Configurable

from .access.feature import FEATURE as ACCESS
from .accounts.feature import FEATURE as ACCOUNTS
from .activity.feature import FEATURE as ACTIVITY
from .admin.feature import FEATURE as ADMIN
from .backends import config_classes as backend_config_classes
from .backups.feature import FEATURE as BACKUPS
from .batch.feature import FEATURE as BATCH
from .capacity.feature import FEATURE as CAPACITY
from .events.feature import FEATURE as EVENTS
from .hubsettings import StellarsHub
from .lab.config import Gpu, Labs, NamedServers
from .notifications.feature import FEATURE as NOTIFICATIONS
from .policies.feature import FEATURE as POLICIES
from .reconcile.feature import FEATURE as RECONCILE
from .selfservice.feature import FEATURE as SELFSERVICE
from .session.feature import FEATURE as SESSION
from .sharing.feature import FEATURE as SHARING
from .usage.feature import FEATURE as USAGE

# admission first (a refused start does nothing else); the admin feature's pre-spawn step
# (built-in groups, GPU decision) comes before the policies'
FEATURES = (
    CAPACITY,
    ACCOUNTS,
    SELFSERVICE,
    ADMIN,
    ACTIVITY,
    NOTIFICATIONS,
    EVENTS,
    POLICIES,
    SESSION,  # after the policies' step: a start's culling limits follow its lab (GPUs, groups)
    USAGE,
    BATCH,
    BACKUPS,
    ACCESS,
    SHARING,
    RECONCILE,  # last: its post-stop removal comes after every other feature's step
)


def configurables(features=FEATURES) -> list[type[Configurable]]:
    """Every class that owns a setting, in the order of the README table, the Settings page and
    --help-all: the hub's, the labs', each feature's, the backends', the platform's own."""
    from .platform import Platform

    classes = [StellarsHub, Labs, Gpu, NamedServers]
    classes += [cls for f in features for cls in f.config_classes if cls not in classes]
    return [*classes, *backend_config_classes(), Platform]

"""Every feature of the platform, in the order its routes and hooks are registered."""

from .access.feature import FEATURE as ACCESS
from .accounts.feature import FEATURE as ACCOUNTS
from .activity.feature import FEATURE as ACTIVITY
from .admin.feature import FEATURE as ADMIN
from .backups.feature import FEATURE as BACKUPS
from .batch.feature import FEATURE as BATCH
from .capacity.feature import FEATURE as CAPACITY
from .events.feature import FEATURE as EVENTS
from .notifications.feature import FEATURE as NOTIFICATIONS
from .policies.feature import FEATURE as POLICIES
from .selfservice.feature import FEATURE as SELFSERVICE
from .session.feature import FEATURE as SESSION
from .usage.feature import FEATURE as USAGE

# admission first (a refused start does nothing else); the admin feature's pre-spawn step
# (built-in groups, GPU decision) comes before the policies'
FEATURES = (
    CAPACITY,
    ACCOUNTS,
    SELFSERVICE,
    ADMIN,
    SESSION,
    ACTIVITY,
    NOTIFICATIONS,
    EVENTS,
    POLICIES,
    USAGE,
    BATCH,
    BACKUPS,
    ACCESS,
)

"""Admin access to a user's lab: only with the user's consent (a switch with an expiry), or,
when the operator allows it, without consent but always notified to the user and audited.

Mechanism (JupyterHub RBAC, no patching): every lab requires the custom scope
``custom:labaccess:enter!server=<owner>/<server>`` (the spawner's OAuth access scopes, and the
only scope the lab's OAuth client may grant), which each user holds on themselves and
JupyterHub's admin role does not. An admin gains it for one user through
a role the platform assigns while access is granted and strips when it ends."""

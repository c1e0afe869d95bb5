"""Share my lab: a user lets named users, a group or whoever holds an invitation link into one of
their running labs, and two people edit one notebook at once (jupyter-collaboration in the lab).

Built on JupyterHub's own sharing (its ``Share`` and ``ShareCode`` records and its
``/hub/api/shares`` and ``/hub/api/share-codes`` routes), made to work with the consent gate of
the access feature: every lab requires ``custom:labaccess:enter!server=<owner>/<server>``, which
JupyterHub's admin role does not hold. A share that opens a lab carries that scope in its own
record beside JupyterHub's ``access:servers`` on the server, so JupyterHub's scope resolution
alone decides who is in: revoking, an expired or deleted record, a group left or deleted all
take the scope away with the record. Only the lab's owner may put the enter scope into a share
(``custom:sharing:share``, held by every user on themselves): an administrator's ``shares`` on
everyone makes a share that JupyterHub honours but the lab does not open for.
"""

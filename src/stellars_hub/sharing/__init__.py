"""Share my lab: a user lets named users, a group or whoever holds an invitation link into one of
their running labs, and two people edit one notebook at once (jupyter-collaboration in the lab).

Built on JupyterHub's own sharing (its ``Share`` and ``ShareCode`` records and its
``/hub/api/shares``, ``/hub/api/share-codes`` and ``/hub/accept-share`` routes), made to work
with the consent gate of the access feature: every lab requires
``custom:labaccess:enter!server=<owner>/<server>``, which JupyterHub's admin role does not hold.

- Only the lab's owner makes a share that opens it (``custom:sharing:share``, which every user
  holds on themselves and administrators do not): such a share carries the enter scope in its
  record beside JupyterHub's ``access:servers``. An administrator's ``shares`` on everyone still
  makes JupyterHub's shares of other scopes; none of them opens a lab.
- The share records are the truth; the way in is a role per shared lab held by exactly the
  holders of those records (``roles.sync``, called on every path), because JupyterHub puts only
  role scopes into the token a visitor's OAuth login gets for the lab.
- Who is in is read from the labs' own OAuth tokens (``visitors``); joins and ends are audited
  and told to the owner's lab.
"""

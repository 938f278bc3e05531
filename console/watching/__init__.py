"""Order watching: stuck orders, supplier outages and the incidents supervisors handle;
the blueprint is ``console.watching.views.bp``."""

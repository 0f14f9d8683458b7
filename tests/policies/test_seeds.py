from bao.policies.seeds import turn_seed


def test_turn_seeds_differ_by_seed_task_and_turn():
    seeds = {turn_seed(s, t, k) for s in (0, 1) for t in ("a", "b") for k in (0, 1)}
    assert len(seeds) == 8


def test_turn_seeds_never_change_so_old_runs_replay():
    assert turn_seed(0, "a", 0) == 710263685323180338

from bao.core.types import TokenRecord, Trajectory, Turn, read_jsonl, write_jsonl


def _traj() -> Trajectory:
    turn = Turn(0, "[answer] 5", "answer", "5", "", "Your answer is correct!", 1.0, True, True,
                reward_components={"task": 1.0}, info={"success": True, "kind": "answer"})
    return Trajectory("function", "func-1", 3, "oracle", [{"role": "user", "content": "go"}], [turn],
                      R=1.0, U=1, U_userrl=1, success=True, stop_reason="done",
                      tokens=TokenRecord([1, 2, 3], [0, 1, 1], [0.0, -0.5, -0.1], [1]))


def test_trajectory_round_trips_through_jsonl(tmp_path):
    path = tmp_path / "t.jsonl"
    write_jsonl(path, [_traj(), _traj()])
    back = list(read_jsonl(path))
    assert back == [_traj(), _traj()]
    assert back[0].n_turns == 1


def test_success_turn_counts_user_involved_turns():
    traj = _traj()
    traj.turns.insert(0, Turn(0, "[action] 1 2 3 4", "ask", "1 2 3 4", "", "...", 0.0, False, False))
    assert traj.user_turn_of_success() == 1

%% SPDX-License-Identifier: MIT
%%
%% pg_bench: the baseline of perf/run-cluster. Erlang/OTP's pg on three
%% distributed nodes of this host, in the shape of Syn's benchmark: N
%% processes on node 1 join groups, driven by W worker processes, and we
%% time how long it takes until every node sees the result.
%%
%% Phases, each timed from the workers' start until both other nodes see
%% the target (and node 1 itself):
%%   join_own   each process joins a group of its own (N groups)
%%   leave_own  each leaves it (0 groups)
%%   join_big   each joins one group, "big" (N members)
%%   leave_big  each leaves it (0 members)
%%   kill       each process, in a group of its own again (re-joined
%%              untimed), is killed (exit(Pid, kill)): pg on node 1 sees it
%%              die and tells the others (0 groups)
%%
%% Visibility is polled on nodes 2 and 3 by a process on each, every
%% millisecond at most: the number of groups is the size of pg's table of
%% the scope (the table is named after the scope and holds one entry per
%% group with a member: what length(pg:which_groups(Scope)) counts, in
%% O(1)); the members of "big" are length(pg:get_members(Scope, big)), a
%% copy of the whole list, so that poller sleeps at least 4x the time its
%% last poll took (it keeps to at most a fifth of a core). The end of a
%% phase is when the later of the two pollers' "done" messages reaches
%% node 1 (same host: tens of microseconds late at most). After each
%% phase, pg:which_groups/get_members on every node are checked against
%% the expected result.
%%
%% Run by perf/run-cluster, which compiles this file, starts a private
%% epmd and node 1, with the cookie in a private HOME:
%%
%%   erl -sname NAME -noshell -noinput -pa DIR \
%%       -run pg_bench main OUT.json N WORKERS PHASE_TIMEOUT_S
%%
%% Nodes 2 and 3 are started here with the peer module (OTP 25): they halt
%% when node 1 stops or its connection to them is lost. The JSON written
%% to OUT.json holds every phase's figures; the exit status is 0 when
%% every phase reached its target, 1 otherwise, 2 for a bad command line.
-module(pg_bench).

-export([main/1, proc_wait/0, poller/5]).

-define(SCOPE, pg_bench_scope).
-define(BIG, <<"big">>).

main([Out, NStr, WStr, TimeoutStr, BigTimeoutStr]) ->
	N = list_to_integer(NStr),
	W = list_to_integer(WStr),
	Timeout = {list_to_integer(TimeoutStr) * 1000, list_to_integer(BigTimeoutStr) * 1000},
	Status = try run(Out, N, W, Timeout) of
		ok -> 0;
		failed -> 1
	catch Class:Reason:Stack ->
		io:format(standard_error, "pg_bench: ~p:~p~n~p~n", [Class, Reason, Stack]),
		1
	end,
	erlang:halt(Status);
main(_) ->
	io:format(standard_error,
		  "usage: erl -sname NAME -noshell -pa DIR -run pg_bench main "
		  "OUT.json N WORKERS PHASE_TIMEOUT_S BIG_TIMEOUT_S~n", []),
	erlang:halt(2).

run(Out, N, W, Timeout) ->
	node() =/= nonode@nohost orelse error(not_distributed),
	Dir = filename:dirname(code:which(?MODULE)),
	Base = hd(string:split(atom_to_list(node()), "@")),
	Peers = [start_peer(Base ++ "_" ++ integer_to_list(I), Dir) || I <- [2, 3]],
	try
		bench(Out, N, W, Timeout, [Node || {_, Node} <- Peers])
	after
		[catch peer:stop(P) || {P, _} <- Peers]
	end.

start_peer(Name, Dir) ->
	%% The peer inherits our environment (HOME with the private cookie,
	%% ERL_EPMD_PORT of the private epmd).
	{ok, P, Node} = peer:start_link(#{name => list_to_atom(Name),
					   args => ["-pa", Dir],
					   wait_boot => 30000}),
	{P, Node}.

bench(Out, N, W, {Timeout, BigTimeout}, Others) ->
	All = [node() | Others],
	%% A full mesh, and the scope on every node; pg discovers its peers.
	[true = erpc:call(A, net_kernel, connect_node, [B]) || A <- All, B <- All, A =/= B],
	[{ok, _} = erpc:call(Node, pg, start, [?SCOPE]) || Node <- All],
	OsPids = [erpc:call(Node, os, getpid, []) || Node <- Others],
	mesh_ready(Others, Timeout),
	JoinOwn = fun(I, P) -> ok = pg:join(?SCOPE, gname(I), P) end,
	%% {Name, What before the phase, Op, What is counted, Target, Timeout}.
	%% The big group comes last: pg copies a group's member list on every
	%% join and leave, so its cost grows with the square of the members and
	%% the phase may not end within its time.
	Phases = [
		{join_own, none, JoinOwn, groups, N, Timeout},
		{leave_own, none, fun(I, P) -> ok = pg:leave(?SCOPE, gname(I), P) end,
		 groups, 0, Timeout},
		{kill, {rejoin, JoinOwn}, fun(_, P) -> exit(P, kill), ok end, groups, 0, Timeout},
		{join_big, respawn, fun(_, P) -> ok = pg:join(?SCOPE, ?BIG, P) end,
		 big, N, BigTimeout},
		{leave_big, none, fun(_, P) -> ok = pg:leave(?SCOPE, ?BIG, P) end,
		 big, 0, BigTimeout}
	],
	Results = run_phases(Phases, slices(spawn_procs(N), W), N, Others, []),
	write_json(Out, N, W, {Timeout, BigTimeout}, OsPids, Results),
	case lists:all(fun(R) -> maps:get(reached, R) end, Results)
		andalso length(Results) =:= length(Phases) of
		true -> ok;
		false -> failed
	end.

%% A probe group joined on node 1 must be seen on the others: then every
%% pg has discovered every other.
mesh_ready(Others, Timeout) ->
	Probe = spawn(fun proc_wait/0),
	ok = pg:join(?SCOPE, probe, Probe),
	Deadline = now_ms() + Timeout,
	wait_until(fun() -> lists:all(fun(Node) ->
			erpc:call(Node, pg, get_members, [?SCOPE, probe]) =:= [Probe]
		end, Others) end, Deadline, probe_seen),
	exit(Probe, kill),
	wait_until(fun() -> lists:all(fun(Node) ->
			erpc:call(Node, pg, which_groups, [?SCOPE]) =:= []
		end, Others) end, Deadline, probe_gone).

wait_until(F, Deadline, What) ->
	case F() of
		true -> ok;
		false ->
			now_ms() < Deadline orelse error({timeout, What}),
			timer:sleep(5),
			wait_until(F, Deadline, What)
	end.

%% The processes: hibernated, so that 100,000 of them stay small.
spawn_procs(N) ->
	[{I, spawn(fun proc_wait/0)} || I <- lists:seq(0, N - 1)].

proc_wait() ->
	erlang:hibernate(?MODULE, proc_wait, []).

%% W contiguous slices of the {Index, Pid} list.
slices(Pids, W) ->
	Per = (length(Pids) + W - 1) div W,
	slices(Pids, Per, []).
slices([], _, Acc) -> lists:reverse(Acc);
slices(L, Per, Acc) when length(L) =< Per -> lists:reverse([L | Acc]);
slices(L, Per, Acc) ->
	{H, T} = lists:split(Per, L),
	slices(T, Per, [H | Acc]).

gname(I) ->
	iolist_to_binary(io_lib:format("bench-~10..0B", [I])).

run_phases([], _, _, _, Acc) ->
	lists:reverse(Acc);
run_phases([{Name, Pre, Op, What, Target, Timeout} | Rest], Slices0, N, Others, Acc) ->
	{Slices, PreOk} = case Pre of
		none -> {Slices0, true};
		respawn -> {slices(spawn_procs(N), length(Slices0)), true};
		{rejoin, Join} ->
			%% Untimed: back into groups of their own, seen everywhere.
			{_, J} = run_phase(rejoin, Join, groups, N, Slices0, Others, Timeout),
			{Slices0, J}
	end,
	{R, Ok} = case PreOk of
		true -> run_phase(Name, Op, What, Target, Slices, Others, Timeout);
		false -> {#{name => Name, target => Target, reached => false,
			    local_s => null, propagated_s => null, counts => [],
			    elapsed_s => null, progress => null,
			    note => <<"its untimed set-up did not complete">>}, false}
	end,
	R2 = R#{ops => N, timeout_s => Timeout div 1000},
	io:format(standard_error, "pg_bench: ~0p~n", [R2]),
	case Ok of
		true -> run_phases(Rest, Slices, N, Others, [R2 | Acc]);
		%% The state the next phase would start from is unknown: stop here.
		false -> lists:reverse([R2 | Acc])
	end.

%% One phase: the workers run Op on their slices from T0; the phase ends
%% when both pollers have seen Target (or at T0 + Timeout). If it did not
%% end, `progress` is how far the slowest other node got (operations seen)
%% at `elapsed_s`.
run_phase(Name, Op, What, Target, Slices, Others, Timeout) ->
	Self = self(),
	Workers = [spawn(fun() -> worker(Self, Op, S) end) || S <- Slices],
	Pollers = [erpc:call(Node, erlang, spawn,
			     [?MODULE, poller, [Self, What, Target, Timeout, Name]])
		   || Node <- Others],
	T0 = erlang:monotonic_time(),
	End = T0 + ms_native(Timeout),
	[Wk ! go || Wk <- Workers],
	Local = collect_workers(length(Workers), T0, End),
	Seen = collect_pollers(Others, T0, End, #{}),
	[exit(P, kill) || P <- Pollers],
	Elapsed = secs(erlang:monotonic_time() - T0),
	Counts = [{Node, count(Node, What)} || Node <- [node() | Others]],
	Reached = is_float(Local) andalso map_size(Seen) =:= length(Others)
		andalso lists:all(fun({_, C}) -> C =:= Target end, Counts)
		andalso check(What, Target, [node() | Others]),
	Prop = case Reached of
		true -> lists:max(maps:values(Seen));
		false -> null
	end,
	N = lists:sum([length(S) || S <- Slices]),
	OtherCounts = [C || {Node, C} <- Counts, Node =/= node()],
	Progress = case Target of
		0 -> N - lists:max(OtherCounts);
		_ -> lists:min(OtherCounts)
	end,
	{#{name => Name, target => Target, reached => Reached,
	   local_s => Local, propagated_s => Prop, counts => Counts,
	   elapsed_s => Elapsed, progress => Progress}, Reached}.

%% A worker that fails says so: the phase then fails, the run goes on to
%% write what it has.
worker(Parent, Op, Slice) ->
	receive go -> ok end,
	R = try
		[Op(I, P) || {I, P} <- Slice],
		ok
	catch C:E -> {C, E}
	end,
	Parent ! {worker_done, self(), R}.

collect_workers(0, T0, _) ->
	secs(erlang:monotonic_time() - T0);
collect_workers(K, T0, End) ->
	Left = max(0, erlang:convert_time_unit(End - erlang:monotonic_time(), native, millisecond)),
	receive
		{worker_done, _, ok} -> collect_workers(K - 1, T0, End);
		{worker_done, _, Err} ->
			io:format(standard_error, "pg_bench: a worker failed: ~p~n", [Err]),
			failed
	after Left -> timeout
	end.

collect_pollers(Others, T0, End, Seen) ->
	case map_size(Seen) =:= length(Others) of
		true -> Seen;
		false ->
			Left = max(0, erlang:convert_time_unit(End - erlang:monotonic_time(),
							       native, millisecond)),
			receive
				{poll_done, Node, _} ->
					T = secs(erlang:monotonic_time() - T0),
					collect_pollers(Others, T0, End, Seen#{Node => T})
			after Left -> Seen
			end
	end.

%% On node 2 or 3: polls until the count reaches Target, then tells node 1.
%% Gives up after TimeoutMs (node 1 then kills it anyway).
poller(Parent, What, Target, TimeoutMs, _Phase) ->
	End = now_ms() + TimeoutMs,
	poll(Parent, What, Target, End, 0).

poll(Parent, What, Target, End, Polls) ->
	T = erlang:monotonic_time(),
	C = local_count(What),
	Cost = erlang:monotonic_time() - T,
	if
		C =:= Target ->
			Parent ! {poll_done, node(), Polls + 1};
		true ->
			case now_ms() > End of
				true -> ok;
				false ->
					Sleep = max(1, ceil(4 * erlang:convert_time_unit(
						Cost, native, microsecond) / 1000)),
					receive after Sleep -> ok end,
					poll(Parent, What, Target, End, Polls + 1)
			end
	end.

local_count(groups) ->
	ets:info(?SCOPE, size);
local_count(big) ->
	length(pg:get_members(?SCOPE, ?BIG)).

count(Node, What) ->
	erpc:call(Node, fun() -> local_count(What) end).

%% The full check through pg's API, on every node.
check(groups, Target, Nodes) ->
	lists:all(fun(Node) ->
		length(erpc:call(Node, pg, which_groups, [?SCOPE])) =:= Target
	end, Nodes);
check(big, Target, Nodes) ->
	lists:all(fun(Node) ->
		length(erpc:call(Node, pg, get_members, [?SCOPE, ?BIG])) =:= Target
	end, Nodes).

write_json(Out, N, W, {Timeout, BigTimeout}, OsPids, Results) ->
	Phases = [phase_json(R) || R <- Results],
	Json = io_lib:format(
		"{\"tool\": \"pg_bench\", \"otp_release\": \"~s\", \"erts\": \"~s\", "
		"\"nodes\": 3, \"processes\": ~B, \"workers\": ~B, "
		"\"phase_timeout_s\": ~B, \"big_timeout_s\": ~B, "
		"\"peer_os_pids\": [~s], \"schedulers\": ~B,~n \"phases\": [~n  ~s~n]}~n",
		[erlang:system_info(otp_release), erlang:system_info(version), N, W,
		 Timeout div 1000, BigTimeout div 1000,
		 lists:join(", ", OsPids), erlang:system_info(schedulers_online),
		 lists:join(",\n  ", Phases)]),
	ok = file:write_file(Out, Json).

phase_json(#{name := Name, ops := Ops, target := Target, reached := Reached,
	     local_s := Local, propagated_s := Prop, counts := Counts,
	     elapsed_s := Elapsed, progress := Progress, timeout_s := TimeoutS}) ->
	Rate = case Prop of
		null -> null;
		P when P > 0 -> Ops / P;
		_ -> null
	end,
	io_lib:format("{\"name\": \"~s\", \"ops\": ~B, \"target\": ~B, \"reached\": ~s, "
		      "\"local_s\": ~s, \"propagated_s\": ~s, \"ops_per_s\": ~s, "
		      "\"elapsed_s\": ~s, \"progress\": ~s, \"timeout_s\": ~B, "
		      "\"counts\": [~s]}",
		      [Name, Ops, Target, Reached, num(Local), num(Prop), num(Rate),
		       num(Elapsed), num(Progress), TimeoutS,
		       lists:join(", ", [integer_to_list(C) || {_, C} <- Counts])]).

num(X) when is_atom(X) -> "null";   % null, timeout, failed
num(X) when is_integer(X) -> integer_to_list(X);
num(X) when is_float(X) -> io_lib:format("~.6f", [X]).

secs(Native) ->
	erlang:convert_time_unit(Native, native, microsecond) / 1.0e6.

ms_native(Ms) ->
	erlang:convert_time_unit(Ms, millisecond, native).

now_ms() ->
	erlang:monotonic_time(millisecond).

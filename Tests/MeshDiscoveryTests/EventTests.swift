import MeshAPI
import Testing

@testable import MeshDiscovery

private func pod(_ i: Int, version: Int = 0) -> AnyResource {
    var meta = ObjectMeta(name: "p\(i)", namespace: "burst", labels: ["app": "burst", "v": "\(version)"])
    meta.uid = "\(i)"
    return .pod(Pod(
        apiVersion: "v1", kind: "Pod", metadata: meta,
        spec: Pod.Spec(containers: [Pod.Container(name: "app")], nodeName: "n"),
        status: Pod.Status(phase: .Running, podIP: "10.\(i / 65536 % 256).\(i / 256 % 256).\(i % 256)")))
}

@Suite struct EventStreamTests {
    @Test func burstOfTenThousandChangesLosesNothing() async {
        let mesh = MeshModel()
        let events = mesh.events()
        let batches = mesh.batches(options: DebounceOptions(quietPeriod: .milliseconds(50), maximumDelay: .seconds(5)))
        // 10,000 separate changes, each its own apply (as a watch delivers them).
        for i in 0..<5_000 { mesh.upsert(pod(i)) }
        for i in 0..<5_000 { mesh.upsert(pod(i, version: 1)) }
        let got = await collect(events, count: 10_000, timeout: .seconds(20))
        #expect(got.count == 10_000)
        #expect(got.prefix(5_000).allSatisfy { if case .workload(.added) = $0 { true } else { false } })
        #expect(got.suffix(5_000).allSatisfy {
            if case .workload(.updated(let before, let after)) = $0 { before.labels["v"] == "0" && after.labels["v"] == "1" } else { false }
        })
        // Debounced: everything coalesces into additions carrying the final state.
        var net = MeshEventBatch()
        var raw = 0
        for await batch in batches {
            raw += batch.rawCount
            for e in batch.events { net.append(e) }
            if raw >= 10_000 { break }
        }
        #expect(raw == 10_000)
        #expect(net.count == 5_000)
        #expect(net.events.allSatisfy { if case .workload(.added(let w)) = $0 { w.labels["v"] == "1" } else { false } })
    }

    @Test func subscribeGivesSnapshotThenChanges() async {
        let mesh = MeshModel()
        mesh.upsert(pod(1))
        let (snapshot, events) = mesh.subscribe()
        mesh.upsert(pod(2))
        #expect(snapshot.workloads.count == 1)
        let got = await collect(events, count: 1)
        #expect(got.map(describe) == ["+workload \(podUID("burst", "p2"))"])
    }
}

@Suite struct BatchTests {
    let a = MeshNamespace(name: "a")
    let a2 = MeshNamespace(name: "a", ambient: true)
    let a3 = MeshNamespace(name: "a", labels: ["x": "y"], ambient: true)
    let b = MeshNamespace(name: "b")

    @Test func coalescesPerSubject() {
        var batch = MeshEventBatch()
        batch.append(.namespace(.added(a)))
        batch.append(.namespace(.added(b)))
        batch.append(.namespace(.updated(before: a, after: a2)))
        batch.append(.namespace(.removed(b)))
        #expect(batch.events == [.namespace(.added(a2))])
        #expect(batch.rawCount == 4)
    }

    @Test func updatesMergeAndCancel() {
        var batch = MeshEventBatch([
            .namespace(.updated(before: a, after: a2)), .namespace(.updated(before: a2, after: a3)),
        ])
        #expect(batch.events == [.namespace(.updated(before: a, after: a3))])
        batch.append(.namespace(.updated(before: a3, after: a)))
        #expect(batch.isEmpty)
        batch = MeshEventBatch([.namespace(.removed(a)), .namespace(.added(a2))])
        #expect(batch.events == [.namespace(.updated(before: a, after: a2))])
        batch = MeshEventBatch([.namespace(.updated(before: a, after: a2)), .namespace(.removed(a2))])
        #expect(batch.events == [.namespace(.removed(a))])
    }
}

@Suite struct DebounceTests {
    @Test func quietPeriodEndsABatch() async {
        let (input, feed) = AsyncStream.makeStream(of: MeshEvent.self)
        let batches = Debouncer.batches(of: input, options: DebounceOptions(quietPeriod: .milliseconds(60), maximumDelay: .seconds(10)))
        let clock = ContinuousClock()
        let start = clock.now
        feed.yield(.namespace(.added(MeshNamespace(name: "a"))))
        try? await Task.sleep(for: .milliseconds(20))
        feed.yield(.namespace(.added(MeshNamespace(name: "b"))))
        var iterator = batches.makeAsyncIterator()
        let first = await iterator.next()
        let elapsed = clock.now - start
        #expect(first?.events.count == 2)
        #expect(elapsed >= .milliseconds(75))  // 20 ms + a full quiet period after the second event
        feed.yield(.namespace(.added(MeshNamespace(name: "c"))))
        let second = await iterator.next()
        #expect(second?.events == [.namespace(.added(MeshNamespace(name: "c")))])
        feed.finish()
        #expect(await iterator.next() == nil)
    }

    @Test func maximumDelayBoundsAContinuousStream() async {
        let (input, feed) = AsyncStream.makeStream(of: MeshEvent.self)
        let batches = Debouncer.batches(of: input, options: DebounceOptions(quietPeriod: .milliseconds(250), maximumDelay: .milliseconds(500)))
        let producer = Task {
            var i = 0
            while !Task.isCancelled {
                feed.yield(.namespace(.added(MeshNamespace(name: "n\(i)"))))
                i += 1
                try? await Task.sleep(for: .milliseconds(5))  // never quiet for 250 ms
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var iterator = batches.makeAsyncIterator()
        let first = await iterator.next()
        let elapsed = clock.now - start
        producer.cancel()
        feed.finish()
        #expect((first?.events.count ?? 0) >= 2)
        #expect(elapsed >= .milliseconds(490))
        #expect(elapsed < .seconds(3))
    }

    @Test func istioDefaults() {
        #expect(DebounceOptions.istio.quietPeriod == .milliseconds(100))
        #expect(DebounceOptions.istio.maximumDelay == .seconds(10))
    }
}

import Foundation
import OTASandbox
import Testing

@Suite struct WorldDeterminismTests {
    private func world(seed: UInt64, steps: [Int]) throws -> SandboxServer {
        var c = SandboxConfiguration()
        c.seed = seed
        let server = try SandboxServer(configuration: c)
        for minutes in steps { server.advance(minutes: minutes) }
        return server
    }

    @Test func sameSeedGivesTheSameWorld() throws {
        let a = try world(seed: 42, steps: [720])
        let b = try world(seed: 42, steps: [720])
        #expect(a.accounts() == b.accounts())
        #expect(a.bookingVersions() == b.bookingVersions())
        #expect(a.availabilityGrid() == b.availabilityGrid())
        #expect(a.rateGrid() == b.rateGrid())
        #expect(a.inventoryRecords() == b.inventoryRecords())
        #expect(a.bookingVersions().count > 50)
    }

    @Test func advancingInStepsEqualsAdvancingAtOnce() throws {
        let once = try world(seed: 7, steps: [600])
        let steps = try world(seed: 7, steps: Array(repeating: 60, count: 10))
        #expect(once.bookingVersions() == steps.bookingVersions())
        #expect(once.inventoryRecords() == steps.inventoryRecords())
        #expect(once.now == steps.now)
    }

    @Test func anotherSeedGivesAnotherWorld() throws {
        let a = try world(seed: 1, steps: [60])
        let b = try world(seed: 2, steps: [60])
        #expect(a.accounts() != b.accounts())
        #expect(a.rateGrid() != b.rateGrid())
    }

    @Test func accountsAreWellFormed() throws {
        let accounts = try world(seed: 3, steps: []).accounts()
        #expect(accounts.map(\.code) == ["HTL001", "HTL002", "HTL003", "HTL004", "HTL005"])
        for account in accounts {
            #expect(Set(accounts.map(\.username)).count == accounts.count)
            #expect(!account.password.isEmpty)
            #expect(account.rates.allSatisfy { rate in account.rooms.contains { $0.code == rate.room } })
            #expect(["EUR", "GBP", "USD", "CHF"].contains(account.currency))
        }
    }
}

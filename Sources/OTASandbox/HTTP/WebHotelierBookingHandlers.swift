/// The booking pull flow: pending list, retrieval, sync and search.
extension WebHotelierAPI {
    func pendingList(property: Int) -> JSONValue {
        var entries = core.world.withLock { $0.pendingList(property: property) }
        if let repeated = repeatedSyncedEntry(property: property) { entries.append(repeated) }
        return .object([
            "records" => .int(entries.count),
            "reservations"
                => .array(
                    entries.map {
                        .object([
                            "id" => .int($0.id),
                            "timestamp" => .string(CivilCalendar.timestampString(seconds: $0.timestamp)),
                            "syncType" => .string($0.syncType),
                        ])
                    }),
        ])
    }

    /// The `repeat_synced_id_rate` fault: one booking of the property that a sync call
    /// removed and that has not changed since, listed again as if the queue still held it.
    private func repeatedSyncedEntry(property: Int) -> SyncQueueEntry? {
        let rate = core.faults.repeatSyncedIdRate
        guard rate > 0, core.dice.withLock({ $0.rng.chance(rate) }) else { return nil }
        let candidates = core.world.withLock { state in
            state.syncedByCall[property].filter { state.queues[property][$0] == nil }.sorted()
        }
        guard !candidates.isEmpty else { return nil }
        let id = candidates[core.dice.withLock { $0.rng.int(0..<candidates.count) }]
        core.countFault("repeated_synced_id")
        let now = core.world.withLock { $0.now }
        return SyncQueueEntry(id: id, timestamp: now, syncType: "MOD", listed: true, versionCount: 0)
    }

    func reservation(id text: String, property: Int) throws -> JSONValue {
        guard let id = Int(text) else { throw WebHotelierError.invalidParam("Reservation id must be an integer.") }
        let version = core.world.withLock { state -> BookingVersion? in
            guard let record = state.bookings[id], record.property == property else { return nil }
            return record.versions.last
        }
        guard let version else { throw WebHotelierError.notFound("Reservation not found.") }
        var malformation = servedMalformation(version)
        let rate = core.faults.malformedFetchRate
        if malformation == nil, rate > 0 {
            // Drawn afresh per fetch, so a retry may get a clean body.
            let kinds = Malformation.kinds(for: .bookings)
            malformation = core.dice.withLock { dice in
                dice.rng.chance(rate) ? kinds[dice.rng.int(0..<kinds.count)] : nil
            }
            if malformation != nil { core.countFault("malformed_fetch") }
        }
        core.counters.withLock { $0.bookingFetches[id, default: []].append(malformation) }
        return version.body.json(malformation: malformation)
    }

    /// A version is served broken only while the malformation fault is on, so a test can
    /// switch it off and see the intact body (the truth keeps which versions were broken).
    private func servedMalformation(_ version: BookingVersion) -> MalformationKind? {
        core.faults.malformedRecordRate > 0 ? version.malformation : nil
    }

    func sync(id text: String, property: Int) throws -> JSONValue {
        guard let id = Int(text) else { throw WebHotelierError.invalidParam("Reservation id must be an integer.") }
        let outcome = core.world.withLock { $0.sync(property: property, id: id) }
        switch outcome {
        case .unknownBooking: throw WebHotelierError.notFound("Reservation not found.")
        case .removed: return .object(["id" => .int(id), "synced" => .bool(true)])
        case .notQueued:
            if core.faults.notPendingAnswers404 != 0 {
                core.countFault("not_pending_404")
                throw WebHotelierError.notFound("Reservation is not pending.")
            }
            return .object(["id" => .int(id), "synced" => .bool(true)])
        case .keptChangedSinceListing:
            core.countFault("sync_before_listing")
            return .object(["id" => .int(id), "synced" => .bool(false)])
        }
    }

    /// GET /reservation: filters, then `order` by last modification (ties by id),
    /// then `maxrows` per page, `pageNo` from 1.
    func search(call: WebHotelierCall, property: Int) throws -> JSONValue {
        let maxRows = try call.optionalInt("maxrows", default: 100, range: 1...1000)
        let page = try call.optionalInt("pageNo", default: 1, range: 1...Int.max)
        let verbose = try call.optionalInt("verbose", default: 1, range: 0...2)
        let order = (call.query["order"] ?? "ASC").uppercased()
        guard order == "ASC" || order == "DESC" else {
            throw WebHotelierError.invalidParam("order must be ASC or DESC.")
        }
        let status = try call.query["status"].map { text -> Bool in
            guard text == "0" || text == "1" else { throw WebHotelierError.invalidParam("status must be 0 or 1.") }
            return text == "1"
        }
        if let code = call.query["property"], code != core.layout.properties[property].code {
            throw WebHotelierError.forbidden("FORBIDDEN", "This account has no access to property \(code).")
        }
        func bound(_ name: String, end: Bool) throws -> Int64? {
            guard let text = call.query[name] else { return nil }
            if let day = CivilCalendar.parseDate(text) { return Int64(day + (end ? 1 : 0)) * 86400 - (end ? 1 : 0) }
            guard let time = CivilCalendar.parseTimestamp(text) else {
                throw WebHotelierError.invalidParam("Parameter \(name) is not a date (YYYY-MM-DD) or an ISO-8601 time.")
            }
            return time
        }
        let ranges: [(KeyPath<BookingBody, Int64>, Int64?, Int64?)] = [
            (\.arrivalSeconds, try bound("chkin_fromd", end: false), try bound("chkin_tod", end: true)),
            (\.departureSeconds, try bound("chkout_fromd", end: false), try bound("chkout_tod", end: true)),
            (\.bookDate, try bound("bk_fromd", end: false), try bound("bk_tod", end: true)),
            (\.otaTime, try bound("last_mod_fromd", end: false), try bound("last_mod_tod", end: true)),
        ]
        let matches = core.world.withLock { state -> [BookingVersion] in
            state.bookingIDsByProperty[property].compactMap { id in
                let version = state.bookings[id]!.versions.last!
                let body = version.body
                if let status, body.confirmed != status { return nil }
                for (path, low, high) in ranges {
                    if let low, body[keyPath: path] < low { return nil }
                    if let high, body[keyPath: path] > high { return nil }
                }
                return version
            }
        }
        var sorted = matches.sorted { ($0.body.otaTime, $0.body.id) < ($1.body.otaTime, $1.body.id) }
        if order == "DESC" { sorted.reverse() }
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: maxRows)
        let start = overflow ? sorted.count : min(sorted.count, offset)
        let slice = sorted[start..<min(sorted.count, start + maxRows)]
        return .object([
            "total" => .int(sorted.count), "pageNo" => .int(page), "maxrows" => .int(maxRows),
            "reservations" => .array(slice.map { summary($0, verbose: verbose) }),
        ])
    }

    private func summary(_ version: BookingVersion, verbose: Int) -> JSONValue {
        let body = version.body
        switch verbose {
        case 0: return .object(["id" => .int(body.id)])
        case 1:
            return .object([
                "id" => .int(body.id), "status" => .int(body.confirmed ? 1 : 0),
                "from" => .string(CivilCalendar.dateString(days: body.arrivalDay)),
                "to" => .string(CivilCalendar.dateString(days: body.departureDay)),
                "book_date" => .string(CivilCalendar.timestampString(seconds: body.bookDate)),
                "last_mod" => .string(CivilCalendar.timestampString(seconds: body.otaTime)),
                "roomType" => .string(body.roomType), "rateID" => .int(body.rateID),
                "price" => .cents(body.roomsWithTaxCents + body.extrasCents), "currency" => .string(body.currency),
                "source" => .string(body.source),
            ])
        default: return body.json(malformation: servedMalformation(version))
        }
    }
}

extension BookingBody {
    var arrivalSeconds: Int64 { Int64(arrivalDay) * 86400 }
    var departureSeconds: Int64 { Int64(departureDay) * 86400 }
}
